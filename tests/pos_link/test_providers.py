"""The provider clients against the fake servers over real loopback HTTP: documented shapes in,
our dataclasses out, and each fault mapped to the error (and so the link status) it must give."""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from pos_link.providers import (
    Credentials,
    CredentialsRefused,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
    SmaregiClient,
    TokenRevoked,
    UbiregiClient,
    http,
)
from pos_link.providers.smaregi import kind_of
from tests.pos_link.conftest import SMAREGI_CONTRACT, SMAREGI_TOKEN

REDIRECT = "http://portal.example/pos/ubiregi/callback/"


def _consent(fake, client, state="st-1") -> str:
    answer = http.call("GET", client.authorize_url(state=state, redirect_uri=REDIRECT), timeout=2)
    assert answer.status == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


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
    code = _consent(ubiregi, client)
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
    code = _consent(ubiregi, client)
    with pytest.raises(CredentialsRefused, match="Client authentication failed"):
        client.exchange_code(code=code, redirect_uri=REDIRECT)


def test_ubiregi_checkouts_follow_next_url_then_since_timestamp(ubiregi):
    ubiregi.page_size = 2
    for price in (100, 200, 300):
        ubiregi.add_checkout("31", price=price, paid=500)
    ubiregi.add_checkout("31", price=50, status="open")  # not finished: not a transaction yet
    client = UbiregiClient()
    tokens = client.exchange_code(code=_consent(ubiregi, client), redirect_uri=REDIRECT)
    creds = Credentials("", tokens.access_token)
    first = client.fetch_page(credentials=creds, terminal_id="31", cursor="")
    assert first.has_more and "glb=" in first.next_cursor
    second = client.fetch_page(credentials=creds, terminal_id="31", cursor=first.next_cursor)
    assert not second.has_more and second.next_cursor.startswith("since=")
    rows = first.transactions + second.transactions
    assert [r.total for r in rows] == [Decimal("100.0"), Decimal("200.0"), Decimal("300.0")]
    assert rows[0].deposit == Decimal(500) and rows[0].change == Decimal("400.0")
    assert rows[0].staff == "Sato" and rows[0].payment_method == "cash" and rows[0].register_no == "31"


def test_smaregi_wrong_contract_and_token_are_refused_with_smaregi_reason(smaregi):
    client = SmaregiClient()
    with pytest.raises(CredentialsRefused, match="契約IDが正しくありません"):
        client.verify(credentials=Credentials("nope", SMAREGI_TOKEN), terminal_id="1")
    with pytest.raises(CredentialsRefused, match="アクセストークンが正しくありません"):
        client.verify(credentials=Credentials(SMAREGI_CONTRACT, "bad"), terminal_id="1")
    assert client.verify(credentials=Credentials(SMAREGI_CONTRACT, SMAREGI_TOKEN), terminal_id="1").contract_id


def test_smaregi_listing_maps_the_transaction_head_fields(smaregi):
    smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=140000, deposit=150000, method="cash", staff_name="Kimura")
    smaregi.add_transaction(SMAREGI_CONTRACT, "2", total=999)  # another terminal: not listed for "1"
    page = SmaregiClient().fetch_page(
        credentials=Credentials(SMAREGI_CONTRACT, SMAREGI_TOKEN), terminal_id="1", cursor=""
    )
    (tx,) = page.transactions
    assert (tx.total, tx.deposit, tx.change) == (Decimal(140000), Decimal(150000), Decimal(10000))
    assert tx.staff == "Kimura" and tx.register_no == "1" and re.fullmatch(r"\d{9}", tx.receipt_no)
    assert tx.occurred_at.utcoffset().total_seconds() == 9 * 3600  # Japan time, as Smaregi sends it
    assert not page.has_more


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        ({"cancelDivision": "0", "disposeDivision": "0", "disposeServerTransactionHeadId": "0"}, "payment"),
        ({"cancelDivision": "1", "disposeDivision": "0"}, "cancel"),
        ({"cancelDivision": "0", "disposeDivision": "1"}, "delete"),
        ({"cancelDivision": "0", "disposeDivision": "0", "disposeServerTransactionHeadId": "5003"}, "modify"),
    ],
)
def test_smaregi_kinds(row, kind):
    assert kind_of(row) == kind


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("401", TokenRevoked),
        ("429", RateLimited),
        ("500", ProviderUnavailable),
        ("503", ProviderUnavailable),
        ("timeout", ProviderUnavailable),
        ("malformed", MalformedResponse),
    ],
)
def test_each_fault_becomes_its_error(smaregi, fault, error):
    smaregi.fail_next(fault)
    with pytest.raises(error):
        SmaregiClient().fetch_page(credentials=Credentials(SMAREGI_CONTRACT, SMAREGI_TOKEN), terminal_id="1", cursor="")


def test_rate_limit_carries_retry_after(smaregi):
    smaregi.fail_next("429")
    with pytest.raises(RateLimited) as caught:
        SmaregiClient().fetch_page(credentials=Credentials(SMAREGI_CONTRACT, SMAREGI_TOKEN), terminal_id="1", cursor="")
    assert caught.value.retry_after == 30
