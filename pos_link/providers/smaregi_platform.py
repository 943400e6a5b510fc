"""Smaregi (スマレジ) through the Platform API: OAuth2 client credentials per contract, REST reads.

Shapes, each with its source on the Smaregi developers' site (developers.smaregi.dev: 共通仕様
/apidoc/common, 取引一覧取得 /platform-api-reference/apis/pos/operations/gettransactions, the POS
specification overview) and feedforce/smaregi-platform-api smaregi-api.yaml (an OpenAPI file
written from those pages); docs/pos.md says which points they leave open:
- Hosts: id.smaregi.jp / api.smaregi.jp (sandbox: id.smaregi.dev / api.smaregi.dev) (共通仕様).
- Token: `POST <id host>/app/<contract_id>/token`, `Authorization: Basic base64(client_id:secret)`,
  form `grant_type=client_credentials&scope=<space-separated>` (here `pos.stores:read
  pos.transactions:read`); answer {"access_token", "token_type": "Bearer", "expires_in", "scope"},
  no refresh token (共通仕様).
- `GET <api host>/<contract_id>/pos/transactions`, `Authorization: Bearer`; one of the range pairs
  (transaction_date_time, terminal_tran_date_time, sum_date, upd_date_time `-from` / `-to`,
  `YYYY-MM-DDThh:mm:ssTZD`) is required and a range spans at most 31 days; `sort=<field>:asc`,
  `limit` 1–1000 (100 by default), `page` from 1; the answer is a bare JSON array of transaction
  objects (取引一覧取得). Here the range is on upd_date_time, so a sale cancelled later comes
  again; sorted by transactionHeadId (unique: stable pages).
- Transaction objects: the TransactionHead columns, all strings, ISO 8601 times, `change` for the
  change (smaregi-api.yaml getTransactionItem): parsed by the one row parser in smaregi.py.
- `GET <api host>/<contract_id>/pos/stores` (pos.stores:read) proves 店舗情報参照.
- Errors: {"type", "title", "status", "detail"} (smaregi-api.yaml; node-red-contrib-smaregi);
  401 a bad or expired token, 403 a missing scope; a rate limit exists per contract (community
  answers); its status code (429 assumed) and headers are unconfirmed.
- Pagination headers are unconfirmed: a full page asks for the next one, a `Link: rel="next"` is
  honoured when present.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from .. import conf
from . import http
from .base import (
    Account,
    Credentials,
    CredentialsRefused,
    MalformedResponse,
    Page,
    PosClient,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenRevoked,
    Tokens,
)
from .parsing import JAPAN, time_or_none
from .smaregi import error_reason, transaction_from_row

SCOPES = "pos.stores:read pos.transactions:read"
PAGE_LIMIT = 100
# The developers' reference: a transaction_date_time range of at most 31 days per request.
MAX_RANGE = timedelta(days=31)
# upd_date_time is set by the server, so a register that syncs late still lands after the last
# window; the overlap only covers rows committed while the last listing ran.
OVERLAP = timedelta(minutes=5)
# How far back the first listing of a new link looks.
FIRST_LOOKBACK = timedelta(days=1)


def _iso(at: datetime) -> str:
    return timezone.localtime(at, JAPAN).isoformat(timespec="seconds")


class SmaregiPlatformClient(PosClient):
    provider = "smaregi"
    interface = "smaregi_platform"
    uses_client_credentials = True

    def __init__(self, *, api_url: str | None = None, id_url: str | None = None):
        self.api_url = (api_url or conf.smaregi_platform_api_url()).rstrip("/")
        self.id_url = (id_url or conf.smaregi_platform_id_url()).rstrip("/")
        self.timeout = conf.http_timeout()

    # ---------------------------------------------------------------- token

    def client_token(self, *, credentials: Credentials) -> Tokens:
        basic = base64.b64encode(f"{credentials.client_id}:{credentials.client_secret}".encode()).decode()
        response = http.call(
            "POST",
            f"{self.id_url}/app/{credentials.contract_id}/token",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            data=urlencode({"grant_type": "client_credentials", "scope": SCOPES}).encode(),
            timeout=self.timeout,
        )
        if response.status in (400, 401, 403, 404):
            raise TokenRevoked(error_reason(response))
        _raise_for_transient(response)
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponse("token response without access_token")
        try:
            expires_in = int(body.get("expires_in") or 3600)
        except (TypeError, ValueError) as exc:
            raise MalformedResponse(f"expires_in is not a number: {body.get('expires_in')!r}") from exc
        return Tokens(str(body["access_token"]), "", timezone.now() + timedelta(seconds=expires_in))

    # ---------------------------------------------------------------- API

    def _get(self, credentials: Credentials, path: str, query: dict, *, refused: type[ProviderError]):
        url = f"{self.api_url}/{credentials.contract_id}/pos/{path}?{urlencode(query)}"
        response = http.call(
            "GET",
            url,
            headers={"Authorization": f"Bearer {credentials.access_token}", "Accept": "application/json"},
            timeout=self.timeout,
        )
        if response.status in (401, 403):
            raise refused(error_reason(response))
        if response.status == 400:
            raise MalformedResponse(f"the request was refused: {error_reason(response)}")
        _raise_for_transient(response)
        if response.status != 200:
            raise ProviderUnavailable(f"HTTP {response.status}")
        return response.json(), response

    def verify(self, *, credentials: Credentials, terminal_id: str = "") -> Account:
        try:
            tokens = self.client_token(credentials=credentials)
        except TokenRevoked as exc:
            raise CredentialsRefused(exc.reason) from exc
        with_token = Credentials(credentials.contract_id, tokens.access_token, credentials.client_id, "")
        # 店舗情報参照 and 取引情報参照 (pos.stores:read, pos.transactions:read), each by a one-row read.
        self._get(with_token, "stores", {"limit": 1}, refused=CredentialsRefused)
        now = timezone.now()
        query = {"upd_date_time-from": _iso(now - timedelta(days=1)), "upd_date_time-to": _iso(now), "limit": 1}
        self._get(with_token, "transactions", query, refused=CredentialsRefused)
        return Account(contract_id=credentials.contract_id)

    def fetch_page(
        self, *, credentials: Credentials, terminal_id: str, cursor: str, now: datetime | None = None
    ) -> Page:
        """Cursor: {"from", "to": the window being listed (≤ 31 days), "page", "done": end of the last
        completed window}. A gap longer than 31 days is walked window by window."""
        now = now or timezone.now()
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        state = state if isinstance(state, dict) else {}
        start = time_or_none(state.get("from")) if state.get("from") else None
        end = time_or_none(state.get("to")) if state.get("to") else None
        page = int(state.get("page") or 1)
        if start is None or end is None:
            done = time_or_none(state.get("done")) if state.get("done") else None
            start = (done - OVERLAP) if done else now - FIRST_LOOKBACK
            end = min(now, start + MAX_RANGE)
            page = 1
        query = {
            "upd_date_time-from": _iso(start),
            "upd_date_time-to": _iso(end),
            "sort": "transactionHeadId:asc",
            "limit": PAGE_LIMIT,
            "page": page,
        }
        rows, response = self._get(credentials, "transactions", query, refused=TokenRevoked)
        if not isinstance(rows, list):
            raise MalformedResponse("the transaction list is not a JSON array")
        transactions = [transaction_from_row(row) for row in rows]
        # terminal_id is not among the documented filters: the register is picked here.
        transactions = [t for t in transactions if t.register_no in ("", str(terminal_id))]
        has_next = 'rel="next"' in (response.headers.get("Link") or "") if response.headers else False
        if has_next or len(rows) >= PAGE_LIMIT:
            state = {"from": _iso(start), "to": _iso(end), "page": page + 1}
            return Page(transactions, json.dumps(state), has_more=True)
        return Page(transactions, json.dumps({"done": _iso(end)}), has_more=now - end > OVERLAP)


def _raise_for_transient(response: http.Response) -> None:
    if response.status == 429:
        raise RateLimited("HTTP 429: too many requests", retry_after=response.retry_after())
    if response.status >= 500:
        raise ProviderUnavailable(f"HTTP {response.status}")
