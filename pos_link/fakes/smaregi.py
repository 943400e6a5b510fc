"""A fake Smaregi API receiving endpoint (`POST /access/`, API受信 Ver.2) for TransactionHead
reads, in the shapes described in pos_link/providers/smaregi.py.

The refusal messages are this fake's own wording (the real error codes are not in the public
sources); what matters is that the provider's reason reaches the operator unchanged.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .server import FakeServer, Reply, Request, json_reply

JAPAN = ZoneInfo("Asia/Tokyo")
INVALID_CONTRACT = "契約IDが正しくありません。(contract ID not found)"
INVALID_TOKEN = "アクセストークンが正しくありません。(access token is invalid)"  # noqa: S105 - a message, not a secret
API_DISABLED = "API受信機能が「利用しない」に設定されています。(API receiving is disabled)"


def _stamp(at: datetime | None = None) -> str:
    return (at or datetime.now(JAPAN)).astimezone(JAPAN).strftime("%Y-%m-%d %H:%M:%S")


class FakeSmaregi(FakeServer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.contracts: dict[str, dict] = {}
        self._ids = itertools.count(5001)
        self._tran = itertools.count(1)

    # ---------------------------------------------------------------- data set-up

    def add_contract(self, contract_id: str, token: str, *, terminals: tuple[str, ...] = ("1",)) -> dict:
        with self.lock:
            contract = {"token": token, "enabled": True, "terminals": set(terminals), "transactions": []}
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
        entered_at: datetime | None = None,
        method: str = "cash",
        cancel: bool = False,
    ) -> dict:
        with self.lock:
            deposit = total if deposit is None else deposit
            head_id = str(next(self._ids))
            row = {
                "transactionHeadId": head_id,
                "transactionDateTime": _stamp(at),
                "transactionHeadDivision": "1",
                "cancelDivision": "1" if cancel else "0",
                "disposeDivision": "0",
                "disposeServerTransactionHeadId": "0",
                "total": str(total),
                "deposit": str(deposit),
                "change": str(Decimal(deposit) - Decimal(total)),
                "cashTotal": str(total) if method == "cash" else "0",
                "creditTotal": str(total) if method == "credit" else "0",
                "terminalId": str(terminal_id),
                "terminalTranId": f"{int(terminal_id):03d}{next(self._tran):06d}",
                "staffId": staff_id,
                "staffName": staff_name,
                "enterDateTime": _stamp(entered_at) if entered_at else None,
                "paymentMethodName1": None,
                "storeId": "1",
                "updDateTime": _stamp(),
            }
            self.contracts[contract_id]["transactions"].append(row)
            return row

    def update_transaction(self, contract_id: str, head_id: str, **fields) -> dict:
        with self.lock:
            for row in self.contracts[contract_id]["transactions"]:
                if row["transactionHeadId"] == head_id:
                    row.update(fields)
                    row["updDateTime"] = _stamp()
                    return row
        raise KeyError(head_id)

    # ---------------------------------------------------------------- HTTP

    def handle(self, request: Request) -> Reply:
        if request.path.rstrip("/") != "/access" or request.method != "POST":
            return json_reply(404, {"error": "not_found"})
        contract = self.contracts.get(request.header("x_contract_id") or request.header("x-contract-id"))
        if contract is None:
            return json_reply(
                400, {"error_code": 8, "error": "invalid_contract_id", "error_description": INVALID_CONTRACT}
            )
        token = request.header("x_access_token") or request.header("x-access-token")
        if token != contract["token"]:
            return json_reply(
                401, {"error_code": 2, "error": "invalid_access_token", "error_description": INVALID_TOKEN}
            )
        if not contract["enabled"]:
            return json_reply(403, {"error_code": 3, "error": "api_disabled", "error_description": API_DISABLED})
        try:
            params = json.loads(request.form.get("params") or "{}")
        except ValueError:
            return json_reply(
                400, {"error_code": 20, "error": "invalid_params", "error_description": "params is not JSON"}
            )
        if request.form.get("proc_name") != "transaction_head_ref" or params.get("table_name") != "TransactionHead":
            return json_reply(
                400, {"error_code": 21, "error": "invalid_proc", "error_description": "proc_name is invalid"}
            )
        return self._transactions(contract, params)

    def _transactions(self, contract: dict, params: dict) -> Reply:
        rows = list(contract["transactions"])
        for condition in params.get("conditions") or []:
            for key, value in condition.items():
                column, _, op = key.partition(" ")
                if op in ("", "="):
                    rows = [r for r in rows if str(r.get(column)) == str(value)]
                elif op == ">=":
                    rows = [r for r in rows if str(r.get(column) or "") >= str(value)]
                elif op == ">":
                    rows = [r for r in rows if str(r.get(column) or "") > str(value)]
        rows.sort(key=lambda r: (r["updDateTime"], int(r["transactionHeadId"])))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = max(1, int(params.get("page") or 1))
        batch = rows[(page - 1) * limit : page * limit]
        fields = params.get("fields") or []
        if fields:
            batch = [{k: r.get(k) for k in fields} for r in batch]
        return json_reply(200, {"total_count": str(len(rows)), "result": batch})
