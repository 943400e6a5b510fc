"""A fake Ubiregi: OAuth2 consent page, token endpoint (code and refresh grants) and the
`/api/3/accounts/…` and `/api/3/accounts/<id>/checkouts` endpoints, answering in the documented
shapes (the ubiregi_* fixtures; pos_link/providers/ubiregi.py names the sources).

The API refuses a request without a valid `Authorization: Bearer` token or a valid
`X-Ubiregi-Auth-Token` with its `X-Ubiregi-App-Secret` digest (401, with `expired=true` in
`WWW-Authenticate` for an expired token), an account outside the token's account and its
children (404), and answers 402 once `subscription_ended` is set.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit, urlunsplit

from .fixtures import fixture
from .server import FakeServer, Reply, Request, html_reply, json_reply, redirect


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _errors(status: int, message: str, headers: dict | None = None) -> Reply:
    reply = json_reply(
        status, {"errors": [{"object": {}, "messages": [message]}], "timestamp": _iso(datetime.now(UTC))}
    )
    reply.headers.update(headers or {})
    return reply


def _with_query(url: str, params: dict) -> str:
    split = urlsplit(url)
    query = (split.query + "&" if split.query else "") + urlencode(params)
    return urlunsplit((split.scheme, split.netloc, split.path, query, split.fragment))


class FakeUbiregi(FakeServer):
    def __init__(
        self,
        *,
        client_id: str = "portal-dev",
        client_secret: str = "portal-dev-secret",  # noqa: S107 - the fake's well-known dev client
        token_ttl: int = 3600,
        page_size: int = 100,
        auto_approve: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.client_id, self.client_secret = client_id, client_secret
        self.token_ttl, self.page_size, self.auto_approve = token_ttl, page_size, auto_approve
        self.accounts: dict[str, dict] = {}
        self.checkouts: dict[str, list[dict]] = {}
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.consenting_account = ""
        self._ids = itertools.count(1001)
        self.subscription_ended = False
        # The next batch starts with the previous batch's last checkout again (an overlapping provider).
        self.duplicate_across_pages = False

    # ---------------------------------------------------------------- data set-up

    def add_account(self, account_id: str, name: str, *, children: tuple[str, ...] = ()) -> dict:
        with self.lock:
            account = fixture("ubiregi_account_current")["response"]["body"]["account"]
            account.update(
                {
                    "id": int(account_id),
                    "login": f"store-{account_id}",
                    "name": name,
                    "cashiers": [{"id": 385, "name": "Sato"}, {"id": 386, "name": "Suzuki"}],
                    "child_ids": [int(c) for c in children],
                    "parent_ids": [],
                }
            )
            for parent in self.accounts.values():
                if int(account_id) in parent["child_ids"]:
                    account["parent_ids"].append(parent["id"])
            self.accounts[str(account_id)] = account
            self.checkouts.setdefault(str(account_id), [])
            self.consenting_account = self.consenting_account or str(account_id)
            return account

    def add_checkout(
        self,
        account_id: str,
        *,
        price: str | int,
        paid: str | int | None = None,
        status: str = "close",
        cashier_id: int | None = 385,
        payment_type_id: int = 1,
        paid_at: datetime | None = None,
    ) -> dict:
        """A checkout; payment_type_id 1 cash, 2 card, 3 other (the fixture account's payment types)."""
        with self.lock:
            now = datetime.now(UTC)
            paid = price if paid is None else paid
            checkout = fixture("ubiregi_checkouts")["response"]["body"]["checkouts"][0]
            checkout.update(
                {
                    "id": next(self._ids),
                    "guid": secrets.token_hex(16).upper(),
                    "account_id": int(account_id),
                    "paid_at": _iso(paid_at or now).replace(".000000", ""),
                    "sales_date": (paid_at or now).date().isoformat(),
                    "price": f"{Decimal(str(price)):.1f}",
                    "change": f"{Decimal(str(paid)) - Decimal(str(price)):.1f}",
                    "status": status,
                    "cashier_id": cashier_id,
                    "payments": [{"id": next(self._ids), "payment_type_id": payment_type_id, "amount": f"{paid}"}],
                    "items": [],
                    "created_at": _iso(now),
                    "updated_at": _iso(now),
                }
            )
            self.checkouts[str(account_id)].append(checkout)
            return checkout

    def update_checkout(self, checkout_id: int, **fields) -> dict:
        with self.lock:
            for rows in self.checkouts.values():
                for row in rows:
                    if row["id"] == checkout_id:
                        row.update(fields)
                        row["updated_at"] = _iso(datetime.now(UTC))
                        return row
        raise KeyError(checkout_id)

    def grant(self, account_id: str, access_token: str, refresh_token: str, *, ttl: int | None = None) -> None:
        """A grant issued before this process started (the demo's, stored by seed_demo)."""
        with self.lock:
            expires_at = datetime.now(UTC) + timedelta(seconds=ttl or self.token_ttl)
            self.access_tokens[access_token] = {"account": str(account_id), "expires_at": expires_at}
            self.refresh_tokens[refresh_token] = str(account_id)

    def revoke_tokens(self) -> None:
        """The operator uninstalled the app on Ubiregi: every token and refresh token stops working."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens.values():
                token["expires_at"] = datetime.now(UTC) - timedelta(seconds=1)

    # ---------------------------------------------------------------- HTTP

    def faultable(self, request: Request) -> bool:
        return not request.path.startswith("/oauth2/authorize")

    def handle(self, request: Request) -> Reply:
        if request.path == "/oauth2/authorize":
            return self._authorize(request)
        if request.path == "/oauth2/token" and request.method == "POST":
            return self._token(request)
        if request.path.startswith("/api/3/accounts/"):
            return self._api(request)
        return json_reply(404, {"error": "not_found"})

    def _authorize(self, request: Request) -> Reply:
        params = request.query if request.method == "GET" else request.form
        client_id, redirect_uri, state = (
            params.get("client_id"),
            params.get("redirect_uri", ""),
            params.get("state", ""),
        )
        if client_id != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return html_reply(400, "<h1>Invalid client</h1>")
        if request.method == "POST" or self.auto_approve:
            if request.method == "POST" and request.form.get("decision") != "allow":
                return redirect(_with_query(redirect_uri, {"error": "access_denied", "state": state}))
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"redirect_uri": redirect_uri, "account": self.consenting_account}
            return redirect(_with_query(redirect_uri, {"code": code, "state": state}))
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in (("client_id", client_id), ("redirect_uri", redirect_uri), ("state", state))
        )
        return html_reply(
            200,
            "<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'><title>Ubiregi (fake)</title></head><body>"
            "<h1>Ubiregi</h1><p>セーフィーがあなたのアカウントにアクセスすることを許可しますか？</p>"
            f"<form method='post' action='/oauth2/authorize'>{hidden}"
            "<label>メールアドレスまたはアカウント名 <input name='login'></label>"
            "<label>パスワード <input type='password' name='password'></label>"
            "<button name='decision' value='allow'>許可する</button>"
            "<button name='decision' value='deny'>許可しない</button></form></body></html>",
        )

    def _client_ok(self, request: Request) -> bool:
        header = request.header("authorization")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.client_id and password == self.client_secret

    def _issue(self, account: str) -> Reply:
        access, refresh = "ubi-at-" + secrets.token_hex(12), "ubi-rt-" + secrets.token_hex(12)
        expires_at = datetime.now(UTC) + timedelta(seconds=self.token_ttl)
        self.access_tokens[access] = {"account": account, "expires_at": expires_at}
        self.refresh_tokens[refresh] = account
        body = fixture("ubiregi_token")["response"]["body"]
        body.update({"access_token": access, "refresh_token": refresh, "expires_in": self.token_ttl})
        body["account_id"] = int(account)
        return json_reply(200, body)

    def _token(self, request: Request) -> Reply:
        if not self._client_ok(request):
            return json_reply(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
        grant = request.form.get("grant_type")
        if grant == "authorization_code":
            grant_info = self.codes.pop(request.form.get("code", ""), None)  # single use
            if grant_info is None or grant_info["redirect_uri"] != request.form.get("redirect_uri"):
                return json_reply(
                    400, {"error": "invalid_grant", "error_description": "The authorization code is invalid."}
                )
            return self._issue(grant_info["account"])
        if grant == "refresh_token":
            account = self.refresh_tokens.pop(request.form.get("refresh_token", ""), None)  # rotated
            if account is None:
                return json_reply(400, {"error": "invalid_grant", "error_description": "The refresh token is invalid."})
            return self._issue(account)
        return json_reply(400, {"error": "unsupported_grant_type"})

    def _app_secret_ok(self, value: str) -> bool:
        salt, _, digest = value.partition(":")
        return bool(salt) and digest == hashlib.sha1((salt + self.client_secret).encode()).hexdigest()  # noqa: S324

    def _token_of(self, request: Request) -> tuple[dict | None, Reply | None]:
        header = request.header("authorization")
        if header.startswith("Bearer "):
            token = self.access_tokens.get(header[7:])
        elif request.header("x-ubiregi-auth-token"):
            if not self._app_secret_ok(request.header("x-ubiregi-app-secret")):
                return None, _errors(401, "invalid app secret")
            token = self.access_tokens.get(request.header("x-ubiregi-auth-token"))
        else:
            return None, _errors(401, "no authentication token")
        if token is None:
            return None, _errors(401, "invalid access token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if token["expires_at"] <= datetime.now(UTC):
            expired = 'Bearer error="invalid_token",expired=true'
            return None, _errors(401, "access token expired", {"WWW-Authenticate": expired})
        return token, None

    def _api(self, request: Request) -> Reply:
        token, refused = self._token_of(request)
        if refused is not None:
            return refused
        if self.subscription_ended:
            return _errors(402, "subscription expired")
        parts = request.path.removeprefix("/api/3/accounts/").strip("/").split("/")
        own = token["account"]
        wanted = own if parts[0] == "current" else parts[0]
        mine = self.accounts.get(own, {})
        readable = {own, *map(str, mine.get("child_ids", [])), *map(str, mine.get("parent_ids", []))}
        if wanted not in readable or wanted not in self.accounts:
            return _errors(404, "account not found")
        now = datetime.now(UTC)
        if len(parts) == 1:
            return json_reply(200, {"account": self.accounts[wanted], "timestamp": _iso(now)})
        if parts[1:] == ["checkouts"]:
            return self._checkouts(request, wanted, now)
        return json_reply(404, {"error": "not_found"})

    def _checkouts(self, request: Request, account: str, now: datetime) -> Reply:
        rows = self.checkouts[account]
        since, until = request.query.get("since"), request.query.get("until")
        try:
            glb = int(request.query.get("glb") or 0)
            since_at = _parse(since) if since else None
            until_at = _parse(until) if until else None
        except ValueError:
            return _errors(400, "invalid since / until / glb")
        # src/api-collection.haml: since ≤ updated_at < until, glb < id, sorted by id.
        matching = sorted(
            (
                r
                for r in rows
                if (since_at is None or _parse(r["updated_at"]) >= since_at)
                and (until_at is None or _parse(r["updated_at"]) < until_at)
                and r["id"] > glb
            ),
            key=lambda r: r["id"],
        )
        batch = matching[: self.page_size]
        body = {
            "timestamp": _iso(now),
            "next-url": None,
            "last_updated_at": max((r["updated_at"] for r in rows), default=_iso(now)),
            "checkouts": batch,
        }
        if len(matching) > len(batch):
            params = {"glb": batch[-1]["id"] - (1 if self.duplicate_across_pages and len(batch) > 1 else 0)}
            if since:
                params["since"] = since
            body["next-url"] = f"{self.url}/api/3/accounts/{account}/checkouts?{urlencode(params)}"
        else:
            del body["next-url"]  # "unspecified in the case there are no more results"
        return json_reply(200, body)
