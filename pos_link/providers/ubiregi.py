"""Ubiregi (ユビレジ) client: OAuth2 authorization-code flow and the checkouts API.

Shapes, each with its public source (docs/pos.md lists them with what is unconfirmed). "U1" is
soutaro/ubiregi-api (the API documents, src/*.haml), "U2" the later revision of the same
documents (belaxbiz/ubiregi-api, 2014: the OAuth2 and API-token sections):
- OAuth2 (U2 src/authentication.haml; duonglaiquang/omniauth-ubiregi
  lib/omniauth/strategies/ubiregi.rb): `https://ubiregi.com/oauth2/authorize?client_id&state`
  (+ `redirect_uri`, `response_type=code`), `POST https://ubiregi.com/oauth2/token` with the
  client in HTTP Basic (omniauth-ubiregi `auth_scheme: :basic_auth`), `grant_type`
  authorization_code / refresh_token. Answer: `access_token`, `token_type` "bearer",
  `expires_in` (24 h), `refresh_token` (14 days, rotated on use), `refresh_token_expires_in`,
  `account_id`. No scopes are documented.
- API calls with an OAuth2 token: `Authorization: Bearer <token>` (U2). An expired token is a
  401 with `WWW-Authenticate: Bearer error="invalid_token",expired=true` (refresh), a revoked one
  a 401 without `expired` (refresh fails: re-authorize). U1 documents the app-install token in
  `X-Ubiregi-Auth-Token` with `X-Ubiregi-App-Secret` = `salt:sha1(salt + secret)`; whether the
  checkouts API takes a Bearer token without them is not established, so both are sent.
- `GET /api/3/accounts/{id|current}` → {"account": {...}, "timestamp"} (U1 src/api-account.haml):
  `id`, `name`, `login`, `child_ids` (the child store accounts, ids only: their names come from
  `GET /accounts/<id>`), `parent_ids`, `sibling_ids`, `cashiers`, `payment_types` ({id, name,
  kind: cash / card / other}, U1 src/api-payment-type.haml). `children` and `child_accounts`
  are read too (tolerated, not in the documents).
- `GET /api/3/accounts/<id>/checkouts?since=&until=&glb=` (U1 src/api-checkout.haml,
  src/api-collection.haml) → {"timestamp", "next-url", "last_updated_at", "checkouts"}; rows
  updated in [since, until), sorted by id; follow `next-url` while present, then ask again with
  `since=<timestamp>`. A Checkout: `id`, `guid`, `account_id`, `paid_at` (the sale),
  `created_at` / `updated_at`, `price`, `change` (strings), `status` close / open / cancel
  (closed, then cancelled) / deleted (deleted without closing), `cashier_id`, `payments`
  [{`id`, `payment_type_id`, `amount`}] — the payment's kind comes from the account's payment types.
- Errors (U1 src/errors.haml): 401 bad token, 403 refused, 404 an account outside current /
  parent / child / sibling; body {"errors": [{"object", "messages"}]}. 402 "the account's
  subscriptions are all expired" is in the older revision only (U1 errors.md): handled like a
  revoked grant. No rate limit is documented; a 429 is honoured anyway.

A checkout carries no register ID: the "terminal" of a Ubiregi link is a store account (the
current one or a child), chosen from the list the account gives at consent time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

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
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Terminal,
    TokenRevoked,
    Tokens,
)
from .parsing import decimal_or_none, text, time_or_none

STATUS_KIND = {"close": Kind.PAYMENT, "cancel": Kind.CANCEL, "deleted": Kind.DELETE}  # "open": not finished yet
PAYMENT_KINDS = ("cash", "card", "other")


MAX_CHILDREN = 100


def children_of(account: dict) -> list[Terminal]:
    """The child store accounts: `child_ids` (documented, ids only), else `children` or
    `child_accounts` (ids or account objects)."""
    items = next((account[k] for k in ("child_ids", "children", "child_accounts") if account.get(k) is not None), [])
    if not isinstance(items, list):
        return []
    items = items[:MAX_CHILDREN]
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("id") is not None:
            out.append(Terminal(text(item["id"], 32), text(item.get("name") or item.get("login") or "", 200)))
        elif isinstance(item, int | str) and not isinstance(item, bool) and str(item).strip():
            out.append(Terminal(text(item, 32)))
    return out


class UbiregiClient(PosClient):
    provider = "ubiregi"
    uses_oauth = True

    def __init__(self, *, base_url: str | None = None, client_id: str | None = None, client_secret: str | None = None):
        self.base_url = (base_url or conf.ubiregi_base_url()).rstrip("/")
        self.client_id = client_id if client_id is not None else conf.ubiregi_client_id()
        self.client_secret = client_secret if client_secret is not None else conf.ubiregi_client_secret()
        self.timeout = conf.http_timeout()

    # ---------------------------------------------------------------- OAuth2

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "state": state}
        )
        return f"{self.base_url}/oauth2/authorize?{query}"

    def _token(self, form: dict[str, str], *, refused: type[ProviderError]) -> Tokens:
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        response = http.call(
            "POST",
            f"{self.base_url}/oauth2/token",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            data=urlencode(form).encode(),
            timeout=self.timeout,
        )
        if response.status in (400, 401):
            body = _safe_json(response)
            reason = body.get("error_description") or body.get("error") or f"HTTP {response.status}"
            raise refused(str(reason))
        _raise_for_transient(response)
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponse("token response without access_token")
        expires_in = body.get("expires_in")
        try:
            expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
        except (TypeError, ValueError) as exc:
            raise MalformedResponse(f"expires_in is not a number: {expires_in!r}") from exc
        return Tokens(str(body["access_token"]), str(body.get("refresh_token") or ""), expires_at)

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token(form, refused=CredentialsRefused)

    def refresh(self, *, refresh_token: str) -> Tokens:
        if not refresh_token:
            raise TokenRevoked("no refresh token")
        # invalid_grant on refresh = the operator uninstalled the app: only a new consent helps.
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, refused=TokenRevoked)

    # ---------------------------------------------------------------- API

    def _get(self, path_or_url: str, access_token: str) -> dict:
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}/api/3{path_or_url}"
        # next-url is followed only on the configured host: a token is never sent elsewhere.
        if urlsplit(url).netloc != urlsplit(self.base_url).netloc:
            raise MalformedResponse("next-url points to another host")
        response = http.call(
            "GET",
            url,
            headers={
                # U2: an OAuth2 token goes as Bearer. U1: the auth-token + salted app-secret headers.
                "Authorization": f"Bearer {access_token}",
                "X-Ubiregi-Auth-Token": access_token,
                "X-Ubiregi-App-Secret": app_secret_header(self.client_secret),
                "Accept": "application/json",
            },
            timeout=self.timeout,
        )
        if response.status == 401:
            raise TokenRevoked(_reason(response, "the access token was refused"))
        if response.status == 402:
            raise TokenRevoked(_reason(response, "the Ubiregi subscription has ended (HTTP 402)"))
        if response.status == 404:
            raise CredentialsRefused(_reason(response, "no such account for this token"))
        _raise_for_transient(response)
        if response.status != 200:
            raise ProviderUnavailable(f"HTTP {response.status}")
        body = response.json()
        if not isinstance(body, dict):
            raise MalformedResponse("expected a JSON object")
        return body

    def account(self, *, access_token: str, account_id: str = "current") -> dict:
        body = self._get(f"/accounts/{account_id}", access_token)
        account = body.get("account")
        if not isinstance(account, dict) or "id" not in account:
            raise MalformedResponse("account response without account.id")
        return account

    def verify(self, *, credentials: Credentials, terminal_id: str = "") -> Account:
        try:
            current = self.account(access_token=credentials.access_token)
            own = Terminal(text(current["id"], 32), text(current.get("name") or "", 200))
            terminals = [own]
            for child in children_of(current):
                # child_ids carry no names: each child account is read once, here, at consent time.
                if not child.name:
                    body = self.account(access_token=credentials.access_token, account_id=child.id)
                    child = Terminal(child.id, text(body.get("name") or "", 200))
                terminals.append(child)
            if terminal_id and str(terminal_id) not in {t.id for t in terminals}:
                self.account(access_token=credentials.access_token, account_id=str(terminal_id))
        except TokenRevoked as exc:
            raise CredentialsRefused(exc.reason) from exc
        return Account(contract_id=own.id, name=own.name, terminals=tuple(dict.fromkeys(terminals)))

    def fetch_page(self, *, credentials: Credentials, terminal_id: str, cursor: str, now=None) -> Page:
        """Cursor: {"query": the next request's since / until / glb, "ts": the timestamp of the
        listing's first page}. The next listing starts at that first timestamp, not the last page's:
        a checkout updated while later pages were read has an id already passed, and would be missed."""
        state = _cursor(cursor)
        query = {k: v for k, v in state["query"].items() if k in ("since", "until", "glb")}
        path = f"/accounts/{terminal_id}/checkouts"
        if query:
            path += "?" + urlencode(sorted(query.items()))
        body = self._get(path, credentials.access_token)
        checkouts = body.get("checkouts")
        if not isinstance(checkouts, list):
            raise MalformedResponse("checkouts response without a checkouts list")
        account = self.account(access_token=credentials.access_token, account_id=str(terminal_id))
        cashiers = {str(c.get("id")): text(c.get("name"), 100) for c in _dicts(account.get("cashiers"))}
        methods = {str(p.get("id")): p for p in _dicts(account.get("payment_types"))}
        rows = [r for r in (self._row(c, terminal_id, cashiers, methods) for c in checkouts) if r is not None]
        # No timestamp (not in every revision): the newest updated_at seen, else where this listing began.
        stamp = state["ts"] or str(
            body.get("timestamp")
            or max(
                (str(c.get("updated_at")) for c in checkouts if isinstance(c, dict) and c.get("updated_at")),
                default=query.get("since", ""),
            )
        )
        next_url = body.get("next-url")
        if next_url:
            next_query = dict(parse_qsl(urlsplit(str(next_url)).query))
            return Page(rows, json.dumps({"query": next_query, "ts": stamp}), has_more=True)
        return Page(rows, json.dumps({"query": {"since": stamp} if stamp else {}, "ts": ""}), has_more=False)

    def _row(self, checkout, terminal_id: str, cashiers: dict, methods: dict) -> PosTransaction | None:
        if not isinstance(checkout, dict) or "id" not in checkout or "status" not in checkout:
            raise MalformedResponse("a checkout without id / status")
        kind = STATUS_KIND.get(str(checkout["status"]).lower())
        if kind is None:
            return None  # an open bill: it comes again once closed (its updated_at moves)
        paid_at = time_or_none(checkout.get("paid_at"))
        if paid_at is None:
            raise MalformedResponse("a closed checkout without paid_at")
        payments = checkout.get("payments") or []
        if not isinstance(payments, list):
            raise MalformedResponse("payments is not a list")
        payments = list(_dicts(payments))
        deposit = sum((decimal_or_none(p.get("amount")) or Decimal(0) for p in payments), Decimal(0))
        kinds = list(dict.fromkeys(k for k in (payment_kind(p, methods) for p in payments) if k))
        return PosTransaction(
            provider_id=str(checkout["id"]),
            occurred_at=paid_at,
            server_at=time_or_none(checkout.get("created_at")),
            kind=kind,
            receipt_no=text(checkout["id"], 64),
            register_no=text(terminal_id, 32),
            staff=cashiers.get(str(checkout.get("cashier_id")), "") if checkout.get("cashier_id") else "",
            total=decimal_or_none(checkout.get("price")),
            deposit=deposit if payments else None,
            change=decimal_or_none(checkout.get("change")),
            entered_at=None,  # Ubiregi checkouts carry no store-entry time
            payment_method="+".join(kinds)[:100],
            raw=json.loads(json.dumps(checkout, default=str)),
        )


def _cursor(cursor: str) -> dict:
    if cursor.startswith("{"):
        try:
            state = json.loads(cursor)
        except ValueError:
            state = {}
        if isinstance(state, dict) and isinstance(state.get("query"), dict):
            return {"query": {str(k): str(v) for k, v in state["query"].items()}, "ts": str(state.get("ts") or "")}
        return {"query": {}, "ts": ""}
    return {"query": dict(parse_qsl(cursor)), "ts": ""}  # a cursor stored before the JSON form


def _dicts(items):
    return (item for item in (items if isinstance(items, list) else []) if isinstance(item, dict))


def payment_kind(payment: dict, methods: dict) -> str:
    """cash / card / other as documented; any other kind is kept as the provider wrote it (the
    pages show it as "other" with that name), never dropped."""
    kind = payment.get("kind") or (methods.get(str(payment.get("payment_type_id"))) or {}).get("kind")
    kind = text(kind or "", 40).strip().lower()
    return kind or ("other" if payment.get("payment_type_id") is not None else "")


def _safe_json(response: http.Response) -> dict:
    try:
        body = response.json()
    except MalformedResponse:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(response: http.Response, default: str) -> str:
    body = _safe_json(response)
    messages = [
        str(m) for e in _dicts(body.get("errors")) for m in (e.get("messages") or []) if isinstance(m, str | int)
    ]  # U1 src/errors.haml: {"errors": [{"object", "messages"}]}
    reason = body.get("error_description") or body.get("error") or "; ".join(messages) or body.get("message")
    return str(reason or default)[:300]


def app_secret_header(secret: str, *, at: datetime | None = None) -> str:
    """U1 src/authentication.haml: `salt:sha1_hex(salt + secret)`, the salt a timestamp."""
    salt = (at or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{salt}:{hashlib.sha1((salt + secret).encode()).hexdigest()}"  # noqa: S324 - the documented digest


def _raise_for_transient(response: http.Response) -> None:
    if response.status == 429:
        raise RateLimited("HTTP 429: too many requests", retry_after=response.retry_after())
    if response.status >= 500:
        raise ProviderUnavailable(f"HTTP {response.status}")
