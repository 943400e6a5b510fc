"""Smaregi (スマレジ) through API受信 Ver.2: contract ID + access token, the interface the manual
sets up (002 "スマレジAPIの設定": 受信機能を利用する, 取引情報参照 and 店舗情報参照 set to
利用する; 契約ID, URL `https://webapi.smaregi.jp/access/`, アクセストークン; 端末ID from the
register list). docs/pos.md lists every shape below with its source and what is unconfirmed.

Shapes (sources named on each):
- Request: `POST <base>/access/`, form-encoded, headers `X_contract_id` and `X_access_token`, form
  fields `proc_name` and `params` (a JSON object: `table_name`, `fields`, `conditions` as a list
  of {"<column> <op>": value}, `order`, `limit` ≤ 1000, `page`).
  Source: takaaki-mizuno/php-smaregi (the client's request builder and its tests).
- Procedure names: TransactionHead and TransactionDetail are read with `transaction_ref`,
  Store with `store_ref`. Source: 外部インターフェース仕様書(POS) table list as transcribed in
  sugimomoto/SmaregiAPP.APIExplorer.Blazor wwwroot/csv/Table.csv.
- Answer: {"total_count": "N", "result": [rows]}, every value a string or null, times
  "YYYY-MM-DD hh:mm:ss" without an offset (read as Japan time: no source states the zone).
  Sources: takaaki-mizuno/php-smaregi tests, nombre-premier/sumarejidump testdata.
- Limits: `limit` 100 by default, at most 1000 (SmaregiAPP.APIExplorer.Blazor README); a date
  range of at most 31 days (CData's Smaregi driver documentation, TransactionHeads): each listing
  covers at most 31 days of updDateTime.
- TransactionHead columns used (source: sugimomoto/SmaregiAPP.APIExplorer.Blazor
  wwwroot/csv/TransactionHeads.csv, from 外部インターフェース仕様書(POS) ver 3.8.0):
  `transactionHeadId`, `transactionDateTime` (サーバーに送信された日時: when the server received
  it), `terminalTranDateTime` (端末取引日時: the sale time at the register), `transactionUuid`
  (レシート番号: the receipt number), `terminalId`, `terminalTranId`, `cancelDivision` (0 normal,
  1 取消), `disposeDivision` (打消区分: 0 normal, 1 the voided original, 2 the voiding record),
  `disposeServerTransactionHeadId` (打消元取引ID, required on 2), `total`, `deposit`, `charge`
  (釣銭: the change), `cashTotal`, `creditTotal`, `depositOthers1..3`, `staffId`, `staffName`,
  `updDateTime`. The Platform API sends the same names, with `change` instead of `charge` and
  ISO 8601 times (feedforce/smaregi-platform-api smaregi-api.yaml): both are read. `enterDateTime`
  is in neither list; it is read when present.
- Errors: {"error_code", "error", "error_description"} (sumarejidump testdata/error_14.json, an
  HTTP 400); the codes as php-smaregi's Response.php lists them. Codes about the credentials or
  the settings (13 token, 14 contract ID, 21 authentication, 22 locked, 23 function disabled,
  24 IP address) need the operator; the others (11, 15 procedure name, 31 table name, 41 input …)
  are this client's fault and are shown as a provider error. Which HTTP status goes with which code
  is confirmed for 14 only; 401/403 are treated as refused credentials too.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone

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
from .parsing import JAPAN, decimal_or_none, flag, text, time_or_none

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_LIMIT = 100
# Table.csv (sugimomoto/SmaregiAPP.APIExplorer.Blazor): TransactionHead is read through transaction_ref.
PROC_TRANSACTIONS = "transaction_ref"
PROC_STORES = "store_ref"
FIELDS = [
    "transactionHeadId",
    "transactionDateTime",
    "terminalTranDateTime",
    "transactionUuid",
    "transactionHeadDivision",
    "cancelDivision",
    "disposeDivision",
    "disposeServerTransactionHeadId",
    "total",
    "deposit",
    "charge",
    "cashTotal",
    "creditTotal",
    "depositOthers1",
    "depositOthers2",
    "depositOthers3",
    "paymentMethodName1",
    "paymentMethodName2",
    "paymentMethodName3",
    "terminalId",
    "terminalTranId",
    "staffId",
    "staffName",
    "storeId",
    "updDateTime",
]

# php-smaregi Response.php: error codes that only the operator can fix (credentials, settings).
CREDENTIAL_ERRORS = {13, 14, 21, 22, 23, 24}
MAX_RANGE = timedelta(days=31)
FIRST_LOOKBACK = timedelta(days=1)
OVERLAP = timedelta(minutes=5)

# disposeDivision (TransactionHeads.csv: 打消区分): 0 normal, 1 the voided original, 2 the voiding record.
DISPOSE_NORMAL, DISPOSE_VOIDED, DISPOSE_VOIDING = 0, 1, 2


def kind_of(row: dict) -> str:
    """cancelDivision 1 or disposeDivision 1/2 → cancel; otherwise a payment ("modify" is decided at
    ingestion, when a stored payment comes back with other amounts)."""
    if flag(row.get("cancelDivision")) == 1 or flag(row.get("disposeDivision")) in (DISPOSE_VOIDED, DISPOSE_VOIDING):
        return Kind.CANCEL
    return Kind.PAYMENT


def payment_method_of(row: dict) -> str:
    """ "cash", "card", and each other method by its name (depositOthers1..3 with
    paymentMethodName1..3 in Ver.2, the depositOthers list in the Platform API), joined with "+".
    A method with no name is "other"; the pages show any name they do not know as "other"."""
    kinds = []
    if (decimal_or_none(row.get("cashTotal")) or 0) > 0:
        kinds.append("cash")
    if (decimal_or_none(row.get("creditTotal")) or 0) > 0:
        kinds.append("card")
    others = row.get("depositOthers")
    if isinstance(others, list):
        pairs = [(o.get("depositOthers"), o.get("paymentMethodName")) for o in others if isinstance(o, dict)]
    else:
        pairs = [(row.get(f"depositOthers{i}"), row.get(f"paymentMethodName{i}")) for i in (1, 2, 3)]
    for amount, name in pairs:
        if (decimal_or_none(amount) or 0) > 0:
            kinds.append(text(name, 40).replace("+", " ").strip() or "other")
    if not kinds and (decimal_or_none(row.get("total")) or 0) > 0:
        kinds.append("other")
    return "+".join(dict.fromkeys(kinds))


def transaction_from_row(row: dict) -> PosTransaction:
    """One TransactionHead row, as API受信 Ver.2, the Platform API and API送信 (the webhook) send it."""
    if not isinstance(row, dict) or not row.get("transactionHeadId"):
        raise MalformedResponse("a transaction without transactionHeadId")
    server_at = time_or_none(row.get("transactionDateTime"))
    occurred_at = time_or_none(row.get("terminalTranDateTime")) or server_at
    if occurred_at is None:
        raise MalformedResponse("a transaction without terminalTranDateTime / transactionDateTime")
    cancels = ""
    if flag(row.get("disposeDivision")) == DISPOSE_VOIDING:
        original = row.get("disposeServerTransactionHeadId")
        if flag(original) == 0:
            raise MalformedResponse("a voiding record (disposeDivision 2) without disposeServerTransactionHeadId")
        cancels = str(original)
    # `charge` is the column in Table.csv; `change` is tolerated (see docs/pos.md).
    change = row.get("charge") if row.get("charge") not in (None, "") else row.get("change")
    return PosTransaction(
        provider_id=str(row["transactionHeadId"]),
        occurred_at=occurred_at,
        server_at=server_at,
        kind=kind_of(row),
        cancels=cancels,
        receipt_no=text(row.get("transactionUuid") or row.get("terminalTranId") or row["transactionHeadId"], 64),
        register_no=text(row.get("terminalId") or "", 32),
        staff=text(row.get("staffName") or row.get("staffId") or "", 100),
        total=decimal_or_none(row.get("total")),
        deposit=decimal_or_none(row.get("deposit")),
        change=decimal_or_none(change),
        entered_at=time_or_none(row.get("enterDateTime")),
        payment_method=payment_method_of(row),
        raw=json.loads(json.dumps(row, default=str)),
    )


def error_code(response: http.Response) -> int | None:
    try:
        body = response.json()
        return int(body.get("error_code")) if isinstance(body, dict) else None
    except (MalformedResponse, TypeError, ValueError):
        return None


def error_reason(response: http.Response) -> str:
    try:
        body = response.json()
    except MalformedResponse as exc:
        return exc.reason if response.looks_like_html() else f"HTTP {response.status}"
    if not isinstance(body, dict):
        return f"HTTP {response.status}"
    parts = [body.get(k) for k in ("error", "error_description", "title", "detail")]
    reason = " ".join(dict.fromkeys(str(p) for p in parts if p))
    return reason[:300] or f"HTTP {response.status}"


class SmaregiClient(PosClient):
    provider = "smaregi"
    interface = "smaregi_access"
    uses_oauth = False

    def __init__(self, *, base_url: str | None = None):
        self.base_url = (base_url or conf.smaregi_base_url()).rstrip("/")
        self.timeout = conf.http_timeout()

    def _post(self, credentials: Credentials, proc_name: str, params: dict, *, refused: type) -> dict:
        response = http.call(
            "POST",
            f"{self.base_url}/access/",
            # Header names as php-smaregi sends them (X_contract_id, X_access_token).
            headers={
                "X_contract_id": credentials.contract_id,
                "X_access_token": credentials.access_token,
                "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
                "Accept": "application/json",
            },
            data=urlencode({"proc_name": proc_name, "params": json.dumps(params, ensure_ascii=False)}).encode(),
            timeout=self.timeout,
        )
        if response.status == 429:
            raise RateLimited("HTTP 429: too many requests", retry_after=response.retry_after())
        if response.status >= 500:
            raise ProviderUnavailable(f"HTTP {response.status}")
        if response.status in (401, 403):
            raise refused(error_reason(response))
        if response.status == 400:
            code = error_code(response)
            if code in CREDENTIAL_ERRORS or code is None:
                raise refused(error_reason(response))
            raise ProviderUnavailable(f"Smaregi refused the request (error {code}): {error_reason(response)}")
        if response.status != 200:
            raise ProviderUnavailable(f"HTTP {response.status}")
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            raise MalformedResponse("answer without a result list")
        return body

    @staticmethod
    def _params(terminal_id: str, since: str, until: str, page: int, limit: int) -> dict:
        conditions = [{"terminalId": str(terminal_id)}]
        if since:
            conditions.append({"updDateTime >=": since})
        if until:
            conditions.append({"updDateTime <=": until})
        return {
            "table_name": "TransactionHead",
            "fields": FIELDS,
            "conditions": conditions,
            "order": ["updDateTime", "transactionHeadId"],
            "limit": limit,
            "page": page,
        }

    def verify(self, *, credentials: Credentials, terminal_id: str = "") -> Account:
        # The two permissions the link needs, each proved by a one-row read: 店舗情報参照 (store_ref)
        # and 取引情報参照 (transaction_ref, on this terminal).
        self._post(
            credentials,
            PROC_STORES,
            {"table_name": "Store", "fields": ["storeId", "storeName"], "limit": 1, "page": 1},
            refused=CredentialsRefused,
        )
        self._post(credentials, PROC_TRANSACTIONS, self._params(terminal_id, "", "", 1, 1), refused=CredentialsRefused)
        return Account(contract_id=credentials.contract_id)

    def fetch_page(self, *, credentials: Credentials, terminal_id: str, cursor: str, now=None) -> Page:
        """Rows changed in a window of updDateTime, page by page.

        Cursor: {"since", "until": the window, fixed when its listing began (≤ 31 days), "page",
        "total": total_count of its page 1, "max": newest updDateTime seen, "done": the end of the
        last finished window}. The fixed bound keeps rows changed during the listing out of it
        (they come in the next window); a total_count that moves restarts the window, and a short
        page against it holds the cursor, so offset paging neither skips nor loses a row.
        """
        now = now or timezone.now()
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        state = state if isinstance(state, dict) else {}
        since, until = str(state.get("since") or ""), str(state.get("until") or "")
        page, expected = int(state.get("page") or 1), state.get("total")
        if not until:
            done = time_or_none(state.get("done")) if state.get("done") else None
            start = (done - OVERLAP) if done else now - FIRST_LOOKBACK
            since, until = _stamp(start), _stamp(min(now, start + MAX_RANGE))
            page, expected = 1, None
        body = self._post(
            credentials,
            PROC_TRANSACTIONS,
            self._params(terminal_id, since, until, page, PAGE_LIMIT),
            refused=TokenRevoked,
        )
        rows = body["result"]
        try:
            total = int(str(body.get("total_count", len(rows))))
        except ValueError as exc:
            raise MalformedResponse(f"total_count is not a number: {body.get('total_count')!r}") from exc
        transactions = [transaction_from_row(row) for row in rows]
        # The terminal filter is applied again here: a row of another register is never stored under this camera.
        transactions = [t for t in transactions if t.register_no in ("", str(terminal_id))]
        window = {"since": since, "until": until}
        if expected is not None and int(expected) != total:
            # Rows moved in or out of the window meanwhile: list it again from page 1 (re-reads are deduplicated).
            return Page(transactions, json.dumps({**window, "page": 1}), has_more=True)
        # Offset paging: page n holds rows (n-1)·limit … n·limit-1 of total_count. Fewer is an
        # incomplete answer; more (a row repeated from the previous page) is deduplicated on storing.
        expected = min(PAGE_LIMIT, max(0, total - (page - 1) * PAGE_LIMIT))
        if len(rows) < expected:
            short = f"page {page} gave {len(rows)} rows of {expected} but total_count is {total}"
            return Page(transactions, cursor, has_more=False, incomplete=short)
        if page * PAGE_LIMIT < total:
            return Page(transactions, json.dumps({**window, "page": page + 1, "total": total}), has_more=True)
        end = time_or_none(until)
        return Page(transactions, json.dumps({"done": until}), has_more=now - end > OVERLAP)


def _stamp(at) -> str:
    return timezone.localtime(at, JAPAN).strftime(TIME_FORMAT)
