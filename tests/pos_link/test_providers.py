"""The provider clients against the fake servers over real loopback HTTP. The fakes answer with the
documented sample payloads and refuse what the real APIs refuse, so a client that drifts from the
documents (a wrong procedure name, a missing header, a range over 31 days) fails here."""

import base64
import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone

from pos_link.providers import (
    Credentials,
    CredentialsRefused,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    SmaregiClient,
    SmaregiPlatformClient,
    Terminal,
    TokenRevoked,
    UbiregiClient,
    http,
)
from pos_link.providers.ubiregi import app_secret_header
from tests.pos_link.conftest import (
    PLATFORM_CLIENT_ID,
    PLATFORM_CLIENT_SECRET,
    PLATFORM_CONTRACT,
    SMAREGI_CONTRACT,
    SMAREGI_TOKEN,
    fixture,
)
from tests.waiting import patience

REDIRECT = "http://portal.example/pos/ubiregi/callback/"
ACCESS = Credentials(SMAREGI_CONTRACT, SMAREGI_TOKEN)
PLATFORM = Credentials(PLATFORM_CONTRACT, "", PLATFORM_CLIENT_ID, PLATFORM_CLIENT_SECRET)


def _consent(client, state="st-1") -> str:
    answer = http.call("GET", client.authorize_url(state=state, redirect_uri=REDIRECT), timeout=patience(2))
    assert answer.status == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def _ubiregi_tokens(client):
    return client.exchange_code(code=_consent(client), redirect_uri=REDIRECT)


def _access_call(fake, proc_name, params, headers=None):
    headers = {"X_contract_id": SMAREGI_CONTRACT, "X_access_token": SMAREGI_TOKEN} if headers is None else headers
    form = urlencode({"proc_name": proc_name, "params": json.dumps(params)}).encode()
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    return http.call("POST", fake.url + "/access/", headers=headers, data=form, timeout=patience(2))


# ---------------------------------------------------------------- Ubiregi


def test_ubiregi_authorize_url_carries_client_redirect_and_state(ubiregi):
    url = UbiregiClient().authorize_url(state="xyz", redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(ubiregi.url + "/oauth2/authorize?")
    assert query == {
        "response_type": ["code"],
        "client_id": ["portal-dev"],
        "redirect_uri": [REDIRECT],
        "state": ["xyz"],
    }


def test_ubiregi_code_is_exchanged_once_and_refresh_rotates_tokens(ubiregi):
    client = UbiregiClient()
    code = _consent(client)
    tokens = client.exchange_code(code=code, redirect_uri=REDIRECT)
    assert tokens.access_token and tokens.refresh_token and tokens.expires_at is not None
    with pytest.raises(CredentialsRefused, match="authorization code is invalid"):
        client.exchange_code(code=code, redirect_uri=REDIRECT)  # single use
    fresh = client.refresh(refresh_token=tokens.refresh_token)
    assert fresh.access_token != tokens.access_token
    with pytest.raises(TokenRevoked, match="refresh token is invalid"):
        client.refresh(refresh_token=tokens.refresh_token)  # the old one was rotated away


def test_ubiregi_wrong_client_secret_is_refused_with_the_reason(ubiregi, settings):
    settings.POS_UBIREGI_CLIENT_SECRET = "wrong"
    client = UbiregiClient()
    with pytest.raises(CredentialsRefused, match="Client authentication failed"):
        client.exchange_code(code=_consent(client), redirect_uri=REDIRECT)


def test_ubiregi_lists_the_account_and_its_children_by_name(ubiregi):
    client = UbiregiClient()
    account = client.verify(credentials=Credentials("", _ubiregi_tokens(client).access_token))
    assert account.contract_id == "31" and account.name == "Alpha Cafe"
    assert account.terminals == (Terminal("31", "Alpha Cafe"), Terminal("32", "Alpha Cafe Terrace"))


def test_the_ubiregi_fake_refuses_a_call_without_the_documented_authentication(ubiregi):
    client = UbiregiClient()
    token = _ubiregi_tokens(client).access_token
    url = ubiregi.url + "/api/3/accounts/current"
    assert http.call("GET", url, timeout=patience(2)).status == 401
    wrong_secret = {"X-Ubiregi-Auth-Token": token, "X-Ubiregi-App-Secret": "20120101000000:0000"}
    assert http.call("GET", url, headers=wrong_secret, timeout=patience(2)).status == 401
    documented = {"X-Ubiregi-Auth-Token": token, "X-Ubiregi-App-Secret": app_secret_header(ubiregi.client_secret)}
    answer = http.call("GET", url, headers=documented, timeout=patience(2))
    assert answer.status == 200
    assert set(answer.json()["account"]) == set(fixture("ubiregi_account_current")["response"]["body"]["account"])


def test_ubiregi_checkouts_follow_next_url_then_since_the_first_timestamp(ubiregi):
    ubiregi.page_size = 2
    for price in (100, 200, 300):
        ubiregi.add_checkout("31", price=price, paid=500)
    ubiregi.add_checkout("31", price=50, status="open")  # not finished: not a transaction yet
    client = UbiregiClient()
    creds = Credentials("31", _ubiregi_tokens(client).access_token)
    first = client.fetch_page(credentials=creds, terminal_id="31", cursor="")
    assert first.has_more and json.loads(first.next_cursor)["query"]["glb"]
    second = client.fetch_page(credentials=creds, terminal_id="31", cursor=first.next_cursor)
    assert not second.has_more
    assert json.loads(second.next_cursor)["query"]["since"] == json.loads(first.next_cursor)["ts"]
    rows = first.transactions + second.transactions
    assert [r.total for r in rows] == [Decimal("100.0"), Decimal("200.0"), Decimal("300.0")]
    assert rows[0].deposit == Decimal(500) and rows[0].change == Decimal("400.0")
    assert rows[0].staff == "Sato" and rows[0].payment_method == "cash" and rows[0].register_no == "31"
    checkout = ubiregi.checkouts["31"][0]
    assert set(checkout) == set(fixture("ubiregi_checkouts")["response"]["body"]["checkouts"][0])


def test_ubiregi_reads_a_child_store_and_refuses_an_unrelated_account(ubiregi):
    ubiregi.add_account("77", "Someone Else")
    ubiregi.add_checkout("32", price=700, payment_type_id=2)
    client = UbiregiClient()
    creds = Credentials("31", _ubiregi_tokens(client).access_token)
    (tx,) = client.fetch_page(credentials=creds, terminal_id="32", cursor="").transactions
    assert tx.payment_method == "card" and tx.register_no == "32"
    with pytest.raises(CredentialsRefused, match="account not found"):
        client.fetch_page(credentials=creds, terminal_id="77", cursor="")


def test_ubiregi_ended_subscription_and_expired_token_are_token_errors(ubiregi):
    client = UbiregiClient()
    creds = Credentials("31", _ubiregi_tokens(client).access_token)
    ubiregi.subscription_ended = True
    with pytest.raises(TokenRevoked, match="subscription expired"):
        client.fetch_page(credentials=creds, terminal_id="31", cursor="")
    ubiregi.subscription_ended = False
    ubiregi.expire_access_tokens()
    with pytest.raises(TokenRevoked, match="expired"):
        client.fetch_page(credentials=creds, terminal_id="31", cursor="")


# ---------------------------------------------------------------- Smaregi API受信 Ver.2


def test_smaregi_wrong_contract_and_token_are_refused_with_smaregi_reason(smaregi):
    client = SmaregiClient()
    with pytest.raises(CredentialsRefused, match="契約IDが無効です"):
        client.verify(credentials=Credentials("nope", SMAREGI_TOKEN), terminal_id="1")
    with pytest.raises(CredentialsRefused, match="アクセストークンが無効です"):
        client.verify(credentials=Credentials(SMAREGI_CONTRACT, "bad"), terminal_id="1")
    assert client.verify(credentials=ACCESS, terminal_id="1").contract_id == SMAREGI_CONTRACT
    assert smaregi.requests.count(("POST", "/access/")) >= 4  # store_ref and transaction_ref each time


def test_the_fake_refuses_what_api_v2_refuses(smaregi):
    params = {"table_name": "TransactionHead", "conditions": [{"terminalId": "1"}]}
    wrong_proc = _access_call(smaregi, "transaction_head_ref", params)
    assert wrong_proc.status == 400 and wrong_proc.json()["error_code"] == 15
    assert _access_call(smaregi, "transaction_ref", params, headers={}).json()["error_code"] == 14
    no_token = _access_call(smaregi, "transaction_ref", params, headers={"X_contract_id": SMAREGI_CONTRACT})
    assert no_token.json()["error_code"] == 13
    wrong_table = _access_call(smaregi, "store_ref", params)
    assert wrong_table.json()["error_code"] == 31
    too_long = {
        **params,
        "conditions": [{"updDateTime >=": "2026-01-01 00:00:00"}, {"updDateTime <=": "2026-02-02 00:00:00"}],
    }
    assert _access_call(smaregi, "transaction_ref", too_long).json()["error_code"] == 41
    assert _access_call(smaregi, "transaction_ref", params).status == 200


def test_a_refused_procedure_is_a_provider_error_not_a_credentials_problem(smaregi, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PROC_TRANSACTIONS", "transaction_head_ref")
    with pytest.raises(ProviderUnavailable, match="error 15"):
        SmaregiClient().fetch_page(credentials=ACCESS, terminal_id="1", cursor="")


def test_smaregi_listing_maps_the_transaction_head_fields(smaregi):
    sold = timezone.now() - timedelta(minutes=3)
    row = smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=140000, deposit=150000, staff_name="Kimura", at=sold)
    smaregi.add_transaction(SMAREGI_CONTRACT, "2", total=999)  # another terminal: not listed for "1"
    page = SmaregiClient().fetch_page(credentials=ACCESS, terminal_id="1", cursor="")
    (tx,) = page.transactions
    assert (tx.total, tx.deposit, tx.change) == (Decimal(140000), Decimal(150000), Decimal(10000))
    assert tx.staff == "Kimura" and tx.register_no == "1" and tx.receipt_no == row["transactionUuid"]
    assert tx.occurred_at == sold.replace(microsecond=0) and tx.server_at > tx.occurred_at
    assert tx.occurred_at.utcoffset().total_seconds() == 9 * 3600  # Japan time, as Smaregi sends it
    assert not page.has_more
    assert set(row) == set(fixture("smaregi_access_transaction_ref")["response"]["body"]["result"][0])


def test_a_gap_longer_than_31_days_is_walked_window_by_window(smaregi):
    client = SmaregiClient()
    long_ago = timezone.now() - timedelta(days=70)
    cursor = json.dumps({"done": long_ago.astimezone(timezone.get_fixed_timezone(540)).strftime("%Y-%m-%d %H:%M:%S")})
    smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=500)
    windows = 0
    while True:
        page = client.fetch_page(credentials=ACCESS, terminal_id="1", cursor=cursor)  # the fake refuses > 31 days
        windows, cursor = windows + 1, page.next_cursor
        if not page.has_more:
            break
    assert windows == 3 and len(page.transactions) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [("401", TokenRevoked), ("429", RateLimited), ("500", ProviderUnavailable), ("503", ProviderUnavailable),
     ("timeout", ProviderUnavailable), ("malformed", MalformedResponse), ("html", MalformedResponse)],
)  # fmt: skip
def test_each_fault_becomes_its_error(smaregi, fault, error):
    smaregi.fail_next(fault)
    with pytest.raises(error):
        SmaregiClient().fetch_page(credentials=ACCESS, terminal_id="1", cursor="")


def test_rate_limit_carries_retry_after(smaregi):
    smaregi.fail_next("429")
    with pytest.raises(RateLimited) as caught:
        SmaregiClient().fetch_page(credentials=ACCESS, terminal_id="1", cursor="")
    assert caught.value.retry_after == 30


def test_a_short_page_against_total_count_holds_the_cursor(smaregi, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PAGE_LIMIT", 2)
    for i in range(3):
        smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=100 + i)
    client = SmaregiClient()
    first = client.fetch_page(credentials=ACCESS, terminal_id="1", cursor="")
    smaregi.fail_next("short")
    second = client.fetch_page(credentials=ACCESS, terminal_id="1", cursor=first.next_cursor)
    assert "total_count is 3" in second.incomplete and second.next_cursor == first.next_cursor


# ---------------------------------------------------------------- Smaregi Platform API


def test_platform_client_credentials_give_a_token_and_the_listing(smaregi):
    client = SmaregiPlatformClient()
    tokens = client.client_token(credentials=PLATFORM)
    assert tokens.access_token.startswith("sp-at-") and tokens.expires_at > timezone.now()
    assert client.verify(credentials=PLATFORM, terminal_id="1").contract_id == PLATFORM_CONTRACT
    row = smaregi.add_transaction(PLATFORM_CONTRACT, "1", total=1200, method="PayPay")
    smaregi.add_transaction(PLATFORM_CONTRACT, "2", total=1)
    creds = Credentials(PLATFORM_CONTRACT, tokens.access_token, PLATFORM_CLIENT_ID, PLATFORM_CLIENT_SECRET)
    (tx,) = client.fetch_page(credentials=creds, terminal_id="1", cursor="").transactions
    assert tx.receipt_no == row["transactionUuid"] and tx.payment_method == "PayPay" and tx.change == Decimal(0)


def test_platform_wrong_secret_is_refused_with_the_reason(smaregi):
    wrong = Credentials(PLATFORM_CONTRACT, "", PLATFORM_CLIENT_ID, "nope")
    with pytest.raises(CredentialsRefused, match="Unauthorized"):
        SmaregiPlatformClient().verify(credentials=wrong, terminal_id="1")


def test_the_fake_refuses_what_the_platform_api_refuses(smaregi):
    tokens = SmaregiPlatformClient().client_token(credentials=PLATFORM)
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    base = f"{smaregi.url}/{PLATFORM_CONTRACT}/pos/transactions"
    now = timezone.now()

    def get(query, headers=bearer):
        return http.call("GET", f"{base}?{urlencode(query)}", headers=headers, timeout=patience(2))

    ok = {"upd_date_time-from": (now - timedelta(days=31)).isoformat(), "upd_date_time-to": now.isoformat()}
    assert get(ok).status == 200
    too_long = {**ok, "upd_date_time-from": (now - timedelta(days=32)).isoformat()}
    assert get(too_long).status == 400 and "31日" in get(too_long).json()["detail"]
    assert get({"limit": 10}).status == 400  # no range at all
    assert get(ok, headers={}).status == 401
    basic = base64.b64encode(b"x:y").decode()
    assert get(ok, headers={"Authorization": f"Basic {basic}"}).status == 401
