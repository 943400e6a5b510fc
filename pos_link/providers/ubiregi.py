"""Ubiregi (ユビレジ) client: OAuth2 authorization-code flow and the checkouts API.

Shapes followed (public sources):
- OAuth2 endpoints `https://ubiregi.com/oauth2/authorize` and `https://ubiregi.com/oauth2/token`,
  client authenticated with HTTP Basic on the token endpoint, account read from
  `GET /api/3/accounts/current` → {"account": {...}} (the public omniauth-ubiregi strategy,
  github.com/duonglaiquang/omniauth-ubiregi lib/omniauth/strategies/ubiregi.rb). Token and error
  bodies are RFC 6749 §5.1 / §5.2 (`access_token`, `refresh_token`, `expires_in`; `error`,
  `error_description`); refresh is RFC 6749 §6 (`grant_type=refresh_token`).
- `GET /api/3/accounts/<account_id>/checkouts?since=&until=&glb=` →
  {"timestamp", "next-url", "last-updated-at", "checkouts": [Checkout]}; a Checkout has `id`,
  `guid`, `account_id`, `paid_at`, `price` and `change` (strings), `status` one of
  close / open / cancel / deleted, `cashier_id`, `payments` [{`payment_type_id`, `amount`}] …
  Results are sorted by id; follow `next-url` until it is absent, then ask again with
  `since=<timestamp>` (Ubiregi API documentation, github.com/soutaro/ubiregi-api
  src/api-checkout.haml, src/api-collection.haml). The account object lists `cashiers` and
  `payment_types` (id, name, kind), used here to name the staff and the payment method.

The "terminal" of a Ubiregi link is an account ID the token may read (the current account or one
of its child / sibling store accounts, which the checkouts endpoint accepts). The key under which
the account lists its child accounts is not in the sources above; `child_accounts` is read when
present (the fake server sends it) and otherwise only the current account is offered.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
    TokenRevoked,
    Tokens,
)

STATUS_KIND = {"close": Kind.PAYMENT, "cancel": Kind.CANCEL, "deleted": Kind.DELETE}  # "open": not finished yet


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
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise MalformedResponse(f"not a time: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, timezone.utc)


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
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=self.timeout,
        )
        if response.status == 401:
            raise TokenRevoked(_reason(response, "the access token was refused"))
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
            if terminal_id and str(terminal_id) != str(current["id"]):
                self.account(access_token=credentials.access_token, account_id=str(terminal_id))
        except TokenRevoked as exc:
            raise CredentialsRefused(exc.reason) from exc
        children = current.get("child_accounts") or []
        terminals = (str(current["id"]),) + tuple(str(c.get("id")) for c in children if isinstance(c, dict))
        return Account(contract_id=str(current["id"]), name=str(current.get("name") or ""), terminals=terminals)

    def fetch_page(self, *, credentials: Credentials, terminal_id: str, cursor: str) -> Page:
        query = dict(parse_qsl(cursor)) if cursor else {}
        path = f"/accounts/{terminal_id}/checkouts"
        if query:
            path += "?" + urlencode(query)
        body = self._get(path, credentials.access_token)
        checkouts = body.get("checkouts")
        if not isinstance(checkouts, list) or "timestamp" not in body:
            raise MalformedResponse("checkouts response without checkouts / timestamp")
        account = self.account(access_token=credentials.access_token, account_id=str(terminal_id))
        cashiers = {str(c.get("id")): str(c.get("name") or "") for c in account.get("cashiers") or []}
        methods = {
            str(p.get("id")): str(p.get("kind") or p.get("name") or "") for p in account.get("payment_types") or []
        }
        rows = [r for r in (self._row(c, terminal_id, cashiers, methods) for c in checkouts) if r is not None]
        next_url = body.get("next-url")
        if next_url:
            next_query = dict(parse_qsl(urlsplit(str(next_url)).query))
            return Page(rows, urlencode(sorted(next_query.items())), has_more=True)
        return Page(rows, urlencode({"since": str(body["timestamp"])}), has_more=False)

    def _row(self, checkout, terminal_id: str, cashiers: dict, methods: dict) -> PosTransaction | None:
        if not isinstance(checkout, dict) or "id" not in checkout or "status" not in checkout:
            raise MalformedResponse("a checkout without id / status")
        kind = STATUS_KIND.get(str(checkout["status"]).lower())
        if kind is None:
            return None  # an open bill: it comes again once closed (its updated_at moves)
        paid_at = _when(checkout.get("paid_at"))
        if paid_at is None:
            raise MalformedResponse("a closed checkout without paid_at")
        payments = checkout.get("payments") or []
        if not isinstance(payments, list):
            raise MalformedResponse("payments is not a list")
        deposit = sum((_decimal(p.get("amount")) or Decimal(0) for p in payments if isinstance(p, dict)), Decimal(0))
        names = [methods.get(str(p.get("payment_type_id")), "") for p in payments if isinstance(p, dict)]
        names = list(dict.fromkeys(n for n in names if n))
        return PosTransaction(
            provider_id=str(checkout["id"]),
            occurred_at=paid_at,
            kind=kind,
            receipt_no=str(checkout["id"]),
            register_no=str(terminal_id),
            staff=cashiers.get(str(checkout.get("cashier_id")), "") if checkout.get("cashier_id") else "",
            total=_decimal(checkout.get("price")),
            deposit=deposit if payments else None,
            change=_decimal(checkout.get("change")),
            entered_at=None,  # Ubiregi checkouts carry no store-entry time
            payment_method="+".join(names),
            raw=json.loads(json.dumps(checkout)),
        )


def _safe_json(response: http.Response) -> dict:
    try:
        body = response.json()
    except MalformedResponse:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(response: http.Response, default: str) -> str:
    body = _safe_json(response)
    return str(body.get("error_description") or body.get("error") or body.get("message") or default)


def _raise_for_transient(response: http.Response) -> None:
    if response.status == 429:
        raise RateLimited("HTTP 429: too many requests", retry_after=response.retry_after())
    if response.status >= 500:
        raise ProviderUnavailable(f"HTTP {response.status}")
