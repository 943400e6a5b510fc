"""POS provider clients behind one interface (`PosClient`); `client_for(provider, interface)`
picks one. Smaregi has two interfaces: API受信 Ver.2 (contract ID + access token) and the
Platform API (client ID / secret per contract).

The demo and the tests point the base URLs at the fake servers of demo/pos_fakes through
settings (pos_link.conf); production code never imports them.
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
    Terminal,
    TokenRevoked,
    Tokens,
)
from .smaregi import SmaregiClient
from .smaregi_platform import SmaregiPlatformClient
from .ubiregi import UbiregiClient

UBIREGI = "ubiregi"
SMAREGI = "smaregi"
SMAREGI_ACCESS = "smaregi_access"
SMAREGI_PLATFORM = "smaregi_platform"

_CLIENTS: dict[tuple[str, str], type[PosClient]] = {
    (UBIREGI, ""): UbiregiClient,
    (SMAREGI, ""): SmaregiClient,
    (SMAREGI, SMAREGI_ACCESS): SmaregiClient,
    (SMAREGI, SMAREGI_PLATFORM): SmaregiPlatformClient,
}


def client_for(provider: str, interface: str = "") -> PosClient:
    try:
        return _CLIENTS[(provider, interface or "")]()
    except KeyError:
        raise ValueError(f"unknown POS provider {provider!r} / interface {interface!r}") from None


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
    "SMAREGI_ACCESS",
    "SMAREGI_PLATFORM",
    "SmaregiClient",
    "SmaregiPlatformClient",
    "Terminal",
    "TokenRevoked",
    "Tokens",
    "UBIREGI",
    "UbiregiClient",
    "client_for",
]
