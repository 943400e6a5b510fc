"""A fake Smaregi speaking both interfaces the portal supports, in the documented shapes
(pos_link/providers/smaregi.py and smaregi_platform.py name the sources):

- API受信 Ver.2: `POST /access/` with `X_contract_id` / `X_access_token`, `proc_name` +
  `params`; TransactionHead through `transaction_ref`, Store through `store_ref`. A missing or
  wrong header, another procedure name (e.g. `transaction_head_ref`), a table the procedure does
  not read, or an updDateTime range over 31 days is refused with the documented error body.
- Platform API: `POST /app/<contract>/token` (client credentials, HTTP Basic),
  `GET /<contract>/pos/transactions` (Bearer; an `-from`/`-to` range is required and may span at
  most 31 days) and `GET /<contract>/pos/stores`.

Every row starts as a copy of the fixture's first TransactionHead row, so the fields, their
names and their string values are the documented ones.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .fixtures import fixture
from .server import FakeServer, Reply, Request, json_reply

JAPAN = ZoneInfo("Asia/Tokyo")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_RANGE = timedelta(days=31)
READS = {"transaction_ref": {"TransactionHead", "TransactionDetail"}, "store_ref": {"Store"}}


def _stamp(at: datetime | None = None) -> str:
    return (at or datetime.now(JAPAN)).astimezone(JAPAN).strftime(TIME_FORMAT)


def _parse(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=JAPAN)


def _error(code: int) -> Reply:
    errors = fixture("smaregi_access_error")
    body = errors["response"]["body"] if code == 14 else {"error_code": code, **errors["messages"][str(code)]}
    return json_reply(400, body)


def platform_row(row: dict) -> dict:
    """A Ver.2 row in the Platform API's shape (smaregi_platform_transactions fixture): `change`
    for `charge`, ISO 8601 times, depositOthers as a list."""
    template = fixture("smaregi_platform_transactions")["response"]["body"][0]
    out = {key: row.get(key, template[key]) for key in template}
    out["change"] = row.get("charge")
    for key in ("transactionDateTime", "terminalTranDateTime", "updDateTime", "cancelDateTime", "adjustmentDateTime"):
        value = row.get(key)
        out[key] = _parse(value).isoformat() if value else None
    out["depositOthers"] = [
        {"transactionHeadId": row["transactionHeadId"], "no": str(i), "paymentMethodId": row.get(f"paymentMethodId{i}"),
         "paymentMethodName": row.get(f"paymentMethodName{i}"), "depositOthers": row.get(f"depositOthers{i}"),
         "paymentDivision": "0"}
        for i in (1, 2, 3) if row.get(f"depositOthers{i}") not in (None, "0")
    ]  # fmt: skip
    return out


class FakeSmaregi(FakeServer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.contracts: dict[str, dict] = {}
        self._ids = itertools.count(5001)
        self._tran = itertools.count(1)
        # Pages after the first repeat the previous page's last row (a provider whose paging overlaps).
        self.duplicate_across_pages = False

    # ---------------------------------------------------------------- data set-up

    def add_contract(
        self,
        contract_id: str,
        token: str = "",
        *,
        terminals: tuple[str, ...] = ("1",),
        client_id: str = "",
        client_secret: str = "",
    ) -> dict:
        with self.lock:
            contract = {
                "token": token, "enabled": True, "terminals": set(terminals), "transactions": [],
                "client_id": client_id, "client_secret": client_secret, "bearer": {},
            }  # fmt: skip
            self.contracts[contract_id] = contract
            return contract

    def add_transaction(
        self,
        contract_id: str,
        terminal_id: str,
        *,
        total: int,
        deposit: int | None = None,
        at: datetime | None = None,
        staff_name: str = "Tanaka",
        staff_id: str = "11",
        method: str = "cash",
        cancel: bool = False,
    ) -> dict:
        """A sale at the register at `at` (the server receives it now). `method`: "cash", "card" or
        the name of another payment method (paid through depositOthers1)."""
        with self.lock:
            deposit = total if deposit is None else deposit
            head_id = str(next(self._ids))
            row = dict(fixture("smaregi_access_transaction_ref")["response"]["body"]["result"][0])
            now = _stamp()
            row.update(
                {
                    "transactionHeadId": head_id,
                    "transactionDateTime": now,
                    "terminalTranDateTime": _stamp(at),
                    "transactionUuid": self._uuid(terminal_id),
                    "cancelDivision": "1" if cancel else "0",
                    "subtotal": str(total),
                    "total": str(total),
                    "deposit": str(deposit),
                    "charge": str(deposit - total) if method == "cash" else "0",
                    "cashTotal": str(total) if method == "cash" else "0",
                    "creditTotal": str(total) if method == "card" else "0",
                    "depositCash": str(deposit) if method == "cash" else "0",
                    "depositCredit": str(total) if method == "card" else "0",
                    "paymentMethodId1": None if method in ("cash", "card") else "4",
                    "paymentMethodName1": None if method in ("cash", "card") else method,
                    "depositOthers1": "0" if method in ("cash", "card") else str(total),
                    "terminalId": str(terminal_id),
                    "terminalTranId": f"{str(terminal_id).zfill(3)}{next(self._tran):06d}",
                    "staffId": staff_id,
                    "staffName": staff_name,
                    "updDateTime": now,
                }
            )
            self.contracts[contract_id]["transactions"].append(row)
            return row

    def void(self, contract_id: str, head_id: str, *, at: datetime | None = None) -> dict:
        """打消し at the register: the original becomes disposeDivision 1, a new voiding record with
        disposeDivision 2 points at it (disposeServerTransactionHeadId)."""
        with self.lock:
            original = self.update_transaction(contract_id, head_id, disposeDivision="1", cancelDateTime=_stamp(at))
            record = dict(original)
            now = _stamp()
            record.update(
                {
                    "transactionHeadId": str(next(self._ids)),
                    "transactionDateTime": now,
                    "terminalTranDateTime": _stamp(at),
                    "transactionUuid": self._uuid(original["terminalId"]),
                    "disposeDivision": "2",
                    "disposeServerTransactionHeadId": head_id,
                    **{k: str(-int(original[k])) for k in ("total", "subtotal", "deposit", "cashTotal", "creditTotal")},
                    "updDateTime": now,
                }
            )
            self.contracts[contract_id]["transactions"].append(record)
            return record

    def _uuid(self, terminal_id: str) -> str:
        # TransactionHeads.csv (transactionUuid): the last 9 digits of the epoch seconds + the terminal ID in 4 digits.
        seconds = int(datetime.now(JAPAN).timestamp()) + next(self._tran)
        return f"{seconds % 10**9:09d}{str(terminal_id).zfill(4)[-4:]}"

    def update_transaction(self, contract_id: str, head_id: str, **fields) -> dict:
        with self.lock:
            for row in self.contracts[contract_id]["transactions"]:
                if row["transactionHeadId"] == head_id:
                    row.update(fields)
                    row["updDateTime"] = _stamp()
                    return row
        raise KeyError(head_id)

    def expire_platform_tokens(self) -> None:
        with self.lock:
            for contract in self.contracts.values():
                for info in contract["bearer"].values():
                    info["expires_at"] = datetime.now(JAPAN) - timedelta(seconds=1)

    # ---------------------------------------------------------------- HTTP

    def handle(self, request: Request) -> Reply:
        if request.path.rstrip("/") == "/access" and request.method == "POST":
            return self._access(request)
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "app" and parts[2] == "token" and request.method == "POST":
            return self._token(request, parts[1])
        if len(parts) == 3 and parts[1] == "pos" and request.method == "GET":
            return self._platform(request, parts[0], parts[2])
        return json_reply(404, {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "not found"})

    # API受信 Ver.2 ----------------------------------------------------------

    def _access(self, request: Request) -> Reply:
        contract_id = request.header("x_contract_id")
        contract = self.contracts.get(contract_id) if contract_id else None
        if contract is None:
            return _error(14)
        token = request.header("x_access_token")
        if not token or token != contract["token"]:
            return _error(13)
        if not contract["enabled"]:
            return _error(23)
        proc, raw = request.form.get("proc_name", ""), request.form.get("params") or "{}"
        try:
            params = json.loads(raw)
        except ValueError:
            return _error(41)
        if proc not in READS:
            return _error(15)  # e.g. transaction_head_ref: not a procedure of the published table list
        if params.get("table_name") not in READS[proc]:
            return json_reply(
                400, {"error_code": 31, "error": "テーブル名が無効です。", "error_description": "table_name"}
            )
        if proc == "store_ref":
            return json_reply(200, fixture("smaregi_access_store_ref")["response"]["body"])
        rows = list(contract["transactions"])
        bounds = {}
        for condition in params.get("conditions") or []:
            for key, value in condition.items():
                column, _, op = key.partition(" ")
                if column == "updDateTime" and op in (">=", "<="):
                    bounds[op] = _parse(value)
                rows = [r for r in rows if _matches(r.get(column), op, value)]
        if ">=" in bounds and "<=" in bounds and bounds["<="] - bounds[">="] > MAX_RANGE:
            return _error(41)
        rows.sort(key=lambda r: int(r["transactionHeadId"]))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = max(1, int(params.get("page") or 1))
        batch = self._page(rows, page, limit)
        fields = params.get("fields") or []
        if fields:
            batch = [{k: r.get(k) for k in fields} for r in batch]
        return json_reply(200, {"total_count": str(len(rows)), "result": batch})

    def _page(self, rows: list, page: int, limit: int) -> list:
        batch = rows[(page - 1) * limit : page * limit]
        if self.duplicate_across_pages and page > 1 and batch:
            batch = [rows[(page - 1) * limit - 1], *batch]
        if self.short and batch:
            batch = batch[:-1]  # fewer rows than total_count says
        return batch

    # Platform API -----------------------------------------------------------

    def _token(self, request: Request, contract_id: str) -> Reply:
        contract = self.contracts.get(contract_id)
        header = request.header("authorization")
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            user = password = ""
        if (
            contract is None
            or not header.startswith("Basic ")
            or (user, password)
            != (
                contract["client_id"],
                contract["client_secret"],
            )
        ):
            return json_reply(401, fixture("smaregi_platform_error")["unauthorized"]["body"])
        if request.form.get("grant_type") != "client_credentials":
            return json_reply(
                400, {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "grant_type"}
            )
        body = fixture("smaregi_platform_token")["response"]["body"]
        body["access_token"] = "sp-at-" + secrets.token_hex(12)
        body["scope"] = request.form.get("scope", "")
        contract["bearer"][body["access_token"]] = {
            "expires_at": datetime.now(JAPAN) + timedelta(seconds=body["expires_in"]),
            "scope": set(body["scope"].split()),
        }
        return json_reply(200, body)

    def _platform(self, request: Request, contract_id: str, resource: str) -> Reply:
        contract = self.contracts.get(contract_id)
        header = request.header("authorization")
        info = (
            contract["bearer"].get(header.removeprefix("Bearer "))
            if contract and header.startswith("Bearer ")
            else None
        )
        if info is None or info["expires_at"] <= datetime.now(JAPAN):
            return json_reply(401, fixture("smaregi_platform_error")["unauthorized"]["body"])
        needed = {"stores": "pos.stores:read", "transactions": "pos.transactions:read"}.get(resource)
        if needed is None:
            return json_reply(404, {"type": "about:blank", "title": "Not Found", "status": 404, "detail": resource})
        if needed not in info["scope"]:
            return json_reply(403, {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": needed})
        if resource == "stores":
            return json_reply(200, [{"storeId": "1", "storeName": "本店"}])
        return self._platform_transactions(request, contract)

    def _platform_transactions(self, request: Request, contract: dict) -> Reply:
        query = request.query
        pairs = {
            "transaction_date_time": "transactionDateTime",
            "terminal_tran_date_time": "terminalTranDateTime",
            "upd_date_time": "updDateTime",
        }
        rows = list(contract["transactions"])
        ranged = False
        for param, column in pairs.items():
            start, end = query.get(f"{param}-from"), query.get(f"{param}-to")
            if start is None and end is None:
                continue
            start_at, end_at = _parse(start or ""), _parse(end or "")
            if start_at is None or end_at is None:
                return json_reply(400, {**_platform_error(), "detail": f"{param}-from / -to"})
            if end_at - start_at > MAX_RANGE:
                return json_reply(400, _platform_error())
            ranged = True
            rows = [r for r in rows if start_at <= _parse(r[column]) <= end_at]
        if not ranged:
            return json_reply(400, {**_platform_error(), "detail": "期間の指定が必要です"})
        rows.sort(key=lambda r: int(r["transactionHeadId"]))
        limit = max(1, min(int(query.get("limit") or 100), 1000))
        page = max(1, int(query.get("page") or 1))
        return json_reply(200, [platform_row(r) for r in self._page(rows, page, limit)])


def _platform_error() -> dict:
    return fixture("smaregi_platform_error")["response"]["body"]


def _matches(actual, op: str, value) -> bool:
    if op in ("", "="):
        return str(actual) == str(value)
    left, right = _parse(actual or ""), _parse(value)
    if left is None or right is None:
        return False
    return {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right}.get(op, False)
