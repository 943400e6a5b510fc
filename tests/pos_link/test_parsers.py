"""The providers' parsers on the documented sample payloads (tests/pos_link/fixtures/, each naming
its public source), not on answers the fakes make up: field names, times, kinds, payment methods,
voids and the one decimal parser both providers share."""

from datetime import UTC, datetime
from decimal import Decimal
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from pos_link.providers import MalformedResponse, Terminal, UbiregiClient, http
from pos_link.providers.parsing import decimal_or_none, time_or_none
from pos_link.providers.smaregi import error_code, error_reason, transaction_from_row
from pos_link.providers.ubiregi import app_secret_header, children_of
from tests.pos_link.conftest import fixture

JST = ZoneInfo("Asia/Tokyo")
FIXTURES = [
    "smaregi_access_transaction_ref", "smaregi_access_store_ref", "smaregi_access_error", "smaregi_access_push",
    "smaregi_platform_token", "smaregi_platform_transactions", "smaregi_platform_error", "smaregi_platform_webhook",
    "ubiregi_token", "ubiregi_account_current", "ubiregi_account_child", "ubiregi_checkouts", "ubiregi_errors",
]  # fmt: skip


def _access_rows():
    return {r["transactionHeadId"]: r for r in fixture("smaregi_access_transaction_ref")["response"]["body"]["result"]}


def _platform_rows():
    return {r["transactionHeadId"]: r for r in fixture("smaregi_platform_transactions")["response"]["body"]}


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_names_its_public_source(name):
    data = fixture(name)
    assert len(data["source"]) > 40 and "unconfirmed" in data


def test_smaregi_sale_time_is_the_registers_and_the_server_time_is_kept():
    tx = transaction_from_row(_access_rows()["104"])
    assert tx.occurred_at == datetime(2018, 9, 2, 13, 34, 32, tzinfo=JST)  # terminalTranDateTime
    assert tx.server_at == datetime(2018, 9, 2, 13, 34, 34, tzinfo=JST)  # transactionDateTime


def test_smaregi_receipt_number_is_the_transaction_uuid_and_change_is_charge():
    tx = transaction_from_row(_access_rows()["104"])
    assert tx.receipt_no == "535881272001" and tx.register_no == "1" and tx.staff == "田中"
    assert (tx.total, tx.deposit, tx.change) == (Decimal(28080), Decimal(30000), Decimal(1920))
    assert tx.payment_method == "cash" and tx.kind == "payment" and tx.entered_at is None


def test_smaregi_void_pair_is_a_cancelled_original_and_a_record_naming_it():
    rows = _access_rows()
    original, record = transaction_from_row(rows["105"]), transaction_from_row(rows["106"])
    assert original.kind == "cancel" and not original.cancels
    assert record.kind == "cancel" and record.cancels == "105"


def test_a_voiding_record_without_its_original_is_malformed():
    row = _access_rows()["106"]
    row["disposeServerTransactionHeadId"] = None
    with pytest.raises(MalformedResponse, match="disposeServerTransactionHeadId"):
        transaction_from_row(row)


def test_smaregi_other_payment_method_is_kept_by_its_name():
    assert transaction_from_row(_access_rows()["107"]).payment_method == "PayPay"
    assert transaction_from_row(_access_rows()["105"]).payment_method == "card"


def test_the_platform_rows_parse_to_the_same_transactions_as_api_v2():
    access, platform = _access_rows(), _platform_rows()
    assert "change" in platform["104"] and "charge" not in platform["104"]  # the Platform API's name
    for head_id in access:
        a, p = transaction_from_row(access[head_id]), transaction_from_row(platform[head_id])
        fields = ("provider_id", "occurred_at", "server_at", "kind", "cancels", "receipt_no", "register_no", "total")
        assert [getattr(a, f) for f in fields] == [getattr(p, f) for f in fields], head_id
        assert (a.deposit, a.payment_method) == (p.deposit, p.payment_method), head_id
    assert transaction_from_row(platform["104"]).change == Decimal(1920)


def test_smaregi_error_body_gives_code_and_reason():
    body = fixture("smaregi_access_error")["response"]["body"]
    response = http.Response(400, Message(), __import__("json").dumps(body).encode())
    assert error_code(response) == 14
    assert "契約IDが無効です。" in error_reason(response) and "contractId is empty" in error_reason(response)
    problem = fixture("smaregi_platform_error")["response"]["body"]
    response = http.Response(400, Message(), __import__("json").dumps(problem).encode())
    assert "31日以内" in error_reason(response)


def test_ubiregi_child_ids_are_the_documented_children_and_other_shapes_are_tolerated():
    account = fixture("ubiregi_account_current")["response"]["body"]["account"]
    assert children_of(account) == [Terminal("32")]
    assert children_of({"children": [{"id": 40, "name": "Annex"}]}) == [Terminal("40", "Annex")]
    assert children_of({"child_accounts": [41, "42", None, True]}) == [Terminal("41"), Terminal("42")]
    assert children_of({"child_ids": "not a list"}) == []


def test_ubiregi_checkouts_parse_with_kinds_from_the_payment_types():
    body = fixture("ubiregi_checkouts")["response"]["body"]
    account = fixture("ubiregi_account_current")["response"]["body"]["account"]
    methods = {str(p["id"]): p for p in account["payment_types"]}
    cashiers = {str(c["id"]): c["name"] for c in account["cashiers"]}
    client = UbiregiClient(base_url="https://ubiregi.com", client_id="x", client_secret="y")
    rows = [client._row(c, "31", cashiers, methods) for c in body["checkouts"]]
    paid, cancelled, mixed, still_open = rows
    assert still_open is None  # an open bill is no transaction yet
    assert paid.occurred_at == datetime(2011, 12, 24, 16, 20, 20, tzinfo=UTC) and paid.kind == "payment"
    assert (paid.total, paid.deposit, paid.change) == (Decimal("385.0"), Decimal("5000.0"), Decimal("4615.0"))
    assert paid.payment_method == "cash" and paid.staff == "佐藤" and paid.server_at is not None
    assert cancelled.kind == "cancel" and cancelled.payment_method == "card"
    assert mixed.payment_method == "other+cash" and mixed.staff == ""


def test_an_unknown_ubiregi_payment_kind_is_kept_not_dropped():
    checkout = fixture("ubiregi_checkouts")["response"]["body"]["checkouts"][0]
    client = UbiregiClient(base_url="https://ubiregi.com", client_id="x", client_secret="y")
    tx = client._row(checkout, "31", {}, {"1": {"id": 1, "kind": "qr_code"}})
    assert tx.payment_method == "qr_code"


def test_the_app_secret_header_is_the_documented_salted_digest():
    # soutaro/ubiregi-api src/authentication.haml: salt ":" sha1_hex(salt + secret)
    value = app_secret_header("secret", at=datetime(2012, 1, 1, 3, 21, 11, tzinfo=UTC))
    assert value == "20120101032111:" + __import__("hashlib").sha1(b"20120101032111secret").hexdigest()


@pytest.mark.parametrize(
    ("raw", "value"),
    [("385.0", Decimal("385.0")), ("1,200", Decimal(1200)), (550, Decimal(550)), ("-550", Decimal(-550)),
     ("", None), (None, None), (" 10 ", Decimal(10)), ("0.125", Decimal("0.13"))],
)  # fmt: skip
def test_the_one_decimal_parser(raw, value):
    assert decimal_or_none(raw) == value


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "1e30", True, "9" * 50])
def test_the_decimal_parser_refuses_what_is_no_amount(raw):
    with pytest.raises(MalformedResponse):
        decimal_or_none(raw)


def test_times_without_an_offset_are_japan_time_and_iso_times_keep_theirs():
    assert time_or_none("2018-09-02 13:34:32") == datetime(2018, 9, 2, 13, 34, 32, tzinfo=JST)
    assert time_or_none("2018-09-02T13:34:32+09:00") == datetime(2018, 9, 2, 4, 34, 32, tzinfo=UTC)
    assert time_or_none("2011-12-24T16:20:20Z") == datetime(2011, 12, 24, 16, 20, 20, tzinfo=UTC)
    assert time_or_none("") is None
    with pytest.raises(MalformedResponse, match="not a time"):
        time_or_none("yesterday")


def test_an_html_answer_is_malformed_and_says_so():
    headers = Message()
    headers["Content-Type"] = "text/html; charset=utf-8"
    with pytest.raises(MalformedResponse, match="HTML page instead of JSON"):
        http.Response(200, headers, b"<!DOCTYPE html><html>maintenance</html>").json()
    with pytest.raises(MalformedResponse, match="HTML"):
        http.Response(200, Message(), b"  <html></html>").json()
