"""The one interface every POS provider client implements, and the errors it may raise.

Clients are plain Python (no Django models): they take credentials in and give dataclasses out,
so services decide what to store. Tests drive them on the documented sample payloads
(tests/pos_link/fixtures/) and against the fake servers of the demo (demo/pos_fakes/), which
answer with the same payloads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class Kind:
    """The dashboard's transaction kinds (docs/product.md §8.2: payment / cancel / modify / delete)."""

    PAYMENT = "payment"
    CANCEL = "cancel"
    MODIFY = "modify"
    DELETE = "delete"


# ---------------------------------------------------------------- errors


class ProviderError(Exception):
    """A provider call failed. `status` is the link status it leads to (models.LinkStatus values)."""

    status = "provider_error"

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TokenRevoked(ProviderError):
    """401: the token was revoked or expired and cannot be refreshed; 402: the provider's
    subscription ended. Only the operator can fix it (re-authorize, or enter new credentials), so
    the link waits for that instead of retrying."""

    status = "token_revoked"


class RateLimited(ProviderError):
    """429: too many requests. Retried after Retry-After (or the backoff, whichever is later)."""

    status = "rate_limited"


class ProviderUnavailable(ProviderError):
    """5xx, a timeout or a refused connection: transient, retried with exponential backoff."""

    status = "provider_error"


class MalformedResponse(ProviderError):
    """The provider answered, but not in its documented shape. Retried; nothing is stored."""

    status = "malformed"


class CredentialsRefused(ProviderError):
    """At link time: the provider refused the contract ID / token / code. `reason` is the provider's."""

    status = "token_revoked"


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Credentials:
    contract_id: str
    access_token: str
    # Smaregi Platform API only: the app's client ID / secret for this contract.
    client_id: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Terminal:
    """Something a link can follow: a Ubiregi store account, a Smaregi register (terminal)."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class Account:
    """Who the credentials belong to: the contract / account ID, a display name and the terminals
    the provider listed (a Ubiregi account and its children; empty where the provider lists none)."""

    contract_id: str
    name: str = ""
    terminals: tuple[Terminal, ...] = ()


@dataclass(frozen=True)
class PosTransaction:
    """One sale in our shape. `occurred_at` is the sale time at the register (what the list, the
    thumbnail and the seek use); `server_at` is when the provider's server received it.

    A void record (Smaregi disposeDivision 2) is not a sale of its own: `cancels` names the
    provider ID of the original, and ingestion turns the original into one cancellation row.
    """

    provider_id: str
    occurred_at: datetime
    kind: str
    receipt_no: str = ""
    register_no: str = ""
    staff: str = ""
    total: Decimal | None = None
    deposit: Decimal | None = None
    change: Decimal | None = None
    entered_at: datetime | None = None
    payment_method: str = ""
    server_at: datetime | None = None
    cancels: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One batch of transactions and the cursor to ask for the next one.

    `has_more` is true while the provider has more right now; the caller stores the page, saves
    `next_cursor` with it, and asks again. Re-reading an overlap is harmless: rows are upserted
    by the provider's transaction ID.
    """

    transactions: list[PosTransaction]
    next_cursor: str
    has_more: bool
    # Set when the provider's answer was incomplete (a short page against total_count): the rows
    # are stored, the cursor stays where it was, and the link shows this as "unexpected answer".
    incomplete: str = ""


class PosClient(ABC):
    provider: str = ""
    interface: str = ""
    # OAuth2: authorization code with refresh (Ubiregi) or client credentials (Smaregi Platform).
    uses_oauth: bool = False
    uses_client_credentials: bool = False

    # OAuth providers only ------------------------------------------------
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        raise NotImplementedError

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        raise NotImplementedError

    def refresh(self, *, refresh_token: str) -> Tokens:
        raise NotImplementedError

    def client_token(self, *, credentials: Credentials) -> Tokens:
        """Client-credentials providers only: a fresh access token for the contract."""
        raise NotImplementedError

    # every provider --------------------------------------------------------
    @abstractmethod
    def verify(self, *, credentials: Credentials, terminal_id: str = "") -> Account:
        """Check the credentials (and the terminal, when given) against the provider.

        Raises CredentialsRefused with the provider's own reason when it says no.
        """

    @abstractmethod
    def fetch_page(self, *, credentials: Credentials, terminal_id: str, cursor: str) -> Page:
        """The next transactions of `terminal_id` after `cursor` ("" = from the start)."""
