"""Smaregi (スマレジ) client: the API receiving interface (API受信 Ver.2) with contract ID + token.

This is the interface the seed manual sets up (002 "スマレジAPIの設定": 受信機能を利用する,
取引情報参照 and 店舗情報参照 set to 利用する; 契約ID, URL `https://webapi.smaregi.jp/access/`,
アクセストークン; 端末ID from the register list). Shapes followed (public client code):
- `POST https://webapi.smaregi.jp/access/`, `Content-Type: application/x-www-form-urlencoded`,
  headers `X_contract_id` and `X_access_token`, form fields `proc_name` (e.g. `transaction_head_ref`)
  and `params`, a JSON object {"table_name", "fields", "conditions": [{"<column> <op>": value}],
  "order", "limit" (≤ 1000), "page"} (public Go / Java / PHP Smaregi clients on GitHub: a Go
  `SmaregiClient.post()`, Java `SmaregiConstants` SMAREGI_API_URI / X_CONTACT_ID / X_ACCESS_TOKEN /
  PROC_NAME / PARAMS, PHP tests asserting `result` and `total_count`).
- The answer is {"total_count": "N", "result": [rows]}; a TransactionHead row carries
  `transactionHeadId`, `transactionDateTime` ("YYYY-MM-DD hh:mm:ss", Japan time),
  `transactionHeadDivision`, `cancelDivision`, `total`, `deposit`, `change`, `cashTotal`,
  `creditTotal`, `terminalId`, `terminalTranId`, `staffId`, `staffName`, `enterDateTime`,
  `disposeDivision`, `disposeServerTransactionHeadId`, `paymentMethodName1`, `updDateTime`
  (Smaregi POS specification, https://developers.smaregi.dev/platform-api-reference/apis/pos/,
  as listed by public TransactionHead structs and column tables).
- Errors: an HTTP 4xx with a JSON body {"error_code", "error", "error_description"}. The exact
  codes are not in the sources above; this client shows `error_description` (else `error`) as the
  provider's reason, and treats 401/403 as refused credentials.

Kinds: cancelDivision 1 → cancel; disposeDivision 1 (the transaction was voided) → delete; a
transaction that replaces another (disposeServerTransactionHeadId set) → modify; else payment.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .. import conf
from . import http
from .base import (
    Account,
    Credentials,
    CredentialsRefused,
    Kind,
    MalformedResponse,
    Page,
    PosClient,
    PosTransaction,
    ProviderUnavailable,
    RateLimited,
    TokenRevoked,
)

JAPAN = ZoneInfo("Asia/Tokyo")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_LIMIT = 100
FIELDS = [
    "transactionHeadId",
    "transactionDateTime",
    "transactionHeadDivision",
    "cancelDivision",
    "disposeDivision",
    "disposeServerTransactionHeadId",
    "total",
    "deposit",
    "change",
    "cashTotal",
    "creditTotal",
    "terminalId",
    "terminalTranId",
    "staffId",
    "staffName",
    "enterDateTime",
    "paymentMethodName1",
    "updDateTime",
]


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedResponse(f"not a number: {value!r}") from exc


def _when(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=JAPAN)
    except ValueError as exc:
        raise MalformedResponse(f"not a time: {value!r}") from exc


def _flag(value) -> bool:
    return str(value or "0") not in ("0", "", "None")


def kind_of(row: dict) -> str:
    if _flag(row.get("cancelDivision")):
        return Kind.CANCEL
    if _flag(row.get("disposeDivision")):
        return Kind.DELETE
    if _flag(row.get("disposeServerTransactionHeadId")):
        return Kind.MODIFY
    return Kind.PAYMENT


def payment_method_of(row: dict) -> str:
    cash = (_decimal(row.get("cashTotal")) or 0) > 0
    credit = (_decimal(row.get("creditTotal")) or 0) > 0
    if cash and credit:
        return "cash+credit"
    if credit:
        return "credit"
    if cash:
        return "cash"
    return str(row.get("paymentMethodName1") or "")


def transaction_from_row(row: dict) -> PosTransaction:
    """One TransactionHead row (from the listing or a webhook) in our shape."""
    if not isinstance(row, dict) or not row.get("transactionHeadId"):
        raise MalformedResponse("a transaction without transactionHeadId")
    occurred_at = _when(row.get("transactionDateTime"))
    if occurred_at is None:
        raise MalformedResponse("a transaction without transactionDateTime")
    return PosTransaction(
        provider_id=str(row["transactionHeadId"]),
        occurred_at=occurred_at,
        kind=kind_of(row),
        receipt_no=str(row.get("terminalTranId") or row["transactionHeadId"]),
        register_no=str(row.get("terminalId") or ""),
        staff=str(row.get("staffName") or row.get("staffId") or ""),
        total=_decimal(row.get("total")),
        deposit=_decimal(row.get("deposit")),
        change=_decimal(row.get("change")),
        entered_at=_when(row.get("enterDateTime")),
        payment_method=payment_method_of(row),
        raw=json.loads(json.dumps(row)),
    )


class SmaregiClient(PosClient):
    provider = "smaregi"
    uses_oauth = False

    def __init__(self, *, base_url: str | None = None):
        self.base_url = (base_url or conf.smaregi_base_url()).rstrip("/")
        self.timeout = conf.http_timeout()

    def _post(self, credentials: Credentials, proc_name: str, params: dict, *, refused: type) -> dict:
        response = http.call(
            "POST",
            f"{self.base_url}/access/",
            headers={
                "X_contract_id": credentials.contract_id,
                "X_access_token": credentials.access_token,
                "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
                "Accept": "application/json",
            },
            data=urlencode({"proc_name": proc_name, "params": json.dumps(params)}).encode(),
            timeout=self.timeout,
        )
        if response.status == 429:
            raise RateLimited("HTTP 429: too many requests", retry_after=response.retry_after())
        if response.status >= 500:
            raise ProviderUnavailable(f"HTTP {response.status}")
        if response.status in (400, 401, 403):
            raise refused(self._reason(response))
        if response.status != 200:
            raise ProviderUnavailable(f"HTTP {response.status}")
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            raise MalformedResponse("answer without a result list")
        return body

    @staticmethod
    def _reason(response: http.Response) -> str:
        try:
            body = response.json()
        except MalformedResponse:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return str(body.get("error_description") or body.get("error") or f"HTTP {response.status}")

    @staticmethod
    def _params(terminal_id: str, since: str, page: int, limit: int) -> dict:
        conditions = [{"terminalId": str(terminal_id)}]
        if since:
            conditions.append({"updDateTime >=": since})
        return {
            "table_name": "TransactionHead",
            "fields": FIELDS,
            "conditions": conditions,
            "order": ["updDateTime", "transactionHeadId"],
            "limit": limit,
            "page": page,
        }

    def verify(self, *, credentials: Credentials, terminal_id: str = "") -> Account:
        # A one-row read of this terminal's transactions: proves the contract ID, the token and that
        # 取引情報参照 is enabled, exactly the permission polling needs.
        self._post(credentials, "transaction_head_ref", self._params(terminal_id, "", 1, 1), refused=CredentialsRefused)
        return Account(contract_id=credentials.contract_id, terminals=(str(terminal_id),) if terminal_id else ())

    def fetch_page(self, *, credentials: Credentials, terminal_id: str, cursor: str) -> Page:
        """Cursor: {"since": updDateTime lower bound, "page": n, "max": newest updDateTime seen}."""
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        since, page, newest = str(state.get("since") or ""), int(state.get("page") or 1), str(state.get("max") or "")
        body = self._post(
            credentials,
            "transaction_head_ref",
            self._params(terminal_id, since, page, PAGE_LIMIT),
            refused=TokenRevoked,
        )
        rows = body["result"]
        transactions = [transaction_from_row(row) for row in rows]
        for row in rows:
            newest = max(newest, str(row.get("updDateTime") or ""))
        if len(rows) >= PAGE_LIMIT:
            return Page(transactions, json.dumps({"since": since, "page": page + 1, "max": newest}), has_more=True)
        # Drained: next time start again at the newest change seen (>=, so the boundary is re-read
        # and deduplicated rather than missed).
        return Page(transactions, json.dumps({"since": newest or since, "page": 1, "max": newest}), has_more=False)
