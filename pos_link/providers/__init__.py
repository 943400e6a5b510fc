"""POS provider clients behind one interface (`PosClient`); `client_for(provider)` picks one.

Tests and the demo point the base URLs at pos_link.fakes through settings (pos_link.conf).
"""

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
from .smaregi import SmaregiClient
from .ubiregi import UbiregiClient

UBIREGI = "ubiregi"
SMAREGI = "smaregi"

_CLIENTS: dict[str, type[PosClient]] = {UBIREGI: UbiregiClient, SMAREGI: SmaregiClient}


def client_for(provider: str) -> PosClient:
    try:
        return _CLIENTS[provider]()
    except KeyError:
        raise ValueError(f"unknown POS provider {provider!r}") from None


__all__ = [
    "Account",
    "Credentials",
    "CredentialsRefused",
    "Kind",
    "MalformedResponse",
    "Page",
    "PosClient",
    "PosTransaction",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "SMAREGI",
    "SmaregiClient",
    "TokenRevoked",
    "Tokens",
    "UBIREGI",
    "UbiregiClient",
    "client_for",
]
