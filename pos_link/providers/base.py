"""The one interface every POS provider client implements, and the errors it may raise.

Clients are plain Python (no Django models): they take credentials in and give dataclasses out,
so services decide what to store and tests drive them against the fake servers in pos_link.fakes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class Kind:
    """The dashboard's transaction kinds (SPEC §8: payment / cancel / modify / delete)."""

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
    """401: the token was revoked or expired and cannot be refreshed. Needs the operator."""

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


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Account:
    """Who the credentials belong to: the contract / account ID and a display name."""

    contract_id: str
    name: str = ""
    terminals: tuple[str, ...] = ()


@dataclass(frozen=True)
class PosTransaction:
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


class PosClient(ABC):
    provider: str = ""
    uses_oauth: bool = False

    # OAuth providers only ------------------------------------------------
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        raise NotImplementedError

    def exchange_code(self, *, code: str, redirect_uri: str) -> Tokens:
        raise NotImplementedError

    def refresh(self, *, refresh_token: str) -> Tokens:
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
