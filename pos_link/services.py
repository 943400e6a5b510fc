"""Writes of the POS link: linking terminals (checked against the provider first), updating and
unlinking rows, the OAuth connection and the tokens (ingestion is in ingestion.py).

Provider calls are never made inside a database transaction that writes rows a user waits for;
they happen first, and only a successful answer leads to one atomic write. A refused answer saves
nothing and comes back as a ValidationError carrying the provider's own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from tenants.access import require_admin
from tenants.models import Operator, User

from . import providers
from .models import Interface, LinkStatus, PosConnection, PosLink, Provider
from .providers import Credentials, CredentialsRefused, PosClient, ProviderError, TokenRevoked
from .selectors import pos_camera_choices

REFRESH_MARGIN = timedelta(seconds=60)
TERMINAL_MAX = 32
CONTRACT_MAX = 64
SECRET_MAX = 512


def get_client(provider: str, interface: str = "") -> PosClient:
    """The client for `provider` (one seam for tests that need a misbehaving client)."""
    return providers.client_for(provider, interface)


def client_of(connection: PosConnection) -> PosClient:
    return get_client(connection.provider, connection.interface)


# ---------------------------------------------------------------- checks shared by the writes


def _clean_terminal(terminal_id: str) -> str:
    terminal_id = (terminal_id or "").strip()
    if not terminal_id:
        raise ValidationError({"terminal_id": [_("Enter the terminal ID.")]})
    if len(terminal_id) > TERMINAL_MAX or not terminal_id.isprintable():
        raise ValidationError({"terminal_id": [_("The terminal ID is at most 32 printable characters.")]})
    return terminal_id


def _check_camera(*, operator: Operator, camera: Device, keep: Device | None = None) -> None:
    if camera.operator_id != operator.pk:
        raise ValidationError({"camera": [_("Choose one of your cameras.")]})
    if not pos_camera_choices(operator=operator, keep=keep).filter(pk=camera.pk).exists():
        raise ValidationError(
            {
                "camera": [
                    ValidationError(
                        _("This camera does not hold the POS link option. Ask your partner for a POS option license."),
                        code="no_pos_option",
                    )
                ]
            }
        )


def _refused(provider: str, exc: ProviderError, field: str = "__all__") -> ValidationError:
    label = Provider(provider).label
    if isinstance(exc, CredentialsRefused | TokenRevoked):
        message = _("%(provider)s refused the link: %(reason)s") % {"provider": label, "reason": exc.reason}
    else:
        message = _("%(provider)s could not be reached (%(reason)s). Nothing was saved; try again later.") % {
            "provider": label,
            "reason": exc.reason,
        }
    return ValidationError({field: [message]})


def _linked(message: str) -> ValidationError:
    return ValidationError(message, code="terminal_taken")  # what is stored refuses it: the API answers 409


def _terminal_free(*, connection: PosConnection | None, terminal_id: str, exclude: PosLink | None = None) -> None:
    if connection is None:
        return
    taken = PosLink.objects.filter(connection=connection, terminal_id=terminal_id)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"terminal_id": [_linked(_("This terminal is already linked. Update its row instead."))]})


# ---------------------------------------------------------------- Smaregi: by hand, two interfaces


def smaregi_link_create(
    *,
    operator: Operator,
    user: User,
    contract_id: str,
    terminal_id: str,
    camera: Device,
    interface: str = Interface.SMAREGI_ACCESS,
    access_token: str = "",
    client_id: str = "",
    client_secret: str = "",
) -> PosLink:
    """Check the credentials and the terminal with Smaregi, then save the link (or nothing).

    API受信 Ver.2 takes the contract ID + access token of the API receiving settings; the Platform
    API takes the contract ID + the app's client ID / secret. Either way the check reads one store
    and one transaction of the terminal, the two permissions polling needs."""
    require_admin(user)
    contract_id = (contract_id or "").strip()
    access_token, client_id, client_secret = (
        v.strip() for v in (access_token or "", client_id or "", client_secret or "")
    )
    errors = {}
    if interface not in (Interface.SMAREGI_ACCESS, Interface.SMAREGI_PLATFORM):
        errors["interface"] = [_("Choose how Smaregi is connected.")]
    if not contract_id or len(contract_id) > CONTRACT_MAX or not contract_id.isprintable() or "/" in contract_id:
        errors["contract_id"] = [_("Enter the contract ID (at most 64 characters).")]
    if interface == Interface.SMAREGI_ACCESS and not access_token:
        errors["access_token"] = [_("Enter the access token.")]
    if interface == Interface.SMAREGI_PLATFORM:
        if not client_id or len(client_id) > 100:
            errors["client_id"] = [_("Enter the client ID of the Smaregi app (at most 100 characters).")]
        if not client_secret or len(client_secret) > SECRET_MAX:
            errors["client_secret"] = [_("Enter the client secret of the Smaregi app.")]
    if errors:
        raise ValidationError(errors)
    terminal_id = _clean_terminal(terminal_id)
    existing = PosConnection.objects.for_operator(operator).filter(provider=Provider.SMAREGI, contract_id=contract_id)
    waiting = PosLink.objects.filter(
        connection__in=existing, terminal_id=terminal_id, status=LinkStatus.TOKEN_REVOKED
    ).first()
    if waiting is None:
        # A terminal waiting for re-authorization is "added again" with the new credentials: it keeps
        # its camera and continues where it stopped.
        _check_camera(operator=operator, camera=camera)
        _terminal_free(connection=existing.first(), terminal_id=terminal_id)
    credentials = Credentials(contract_id, access_token, client_id, client_secret)
    try:
        get_client(Provider.SMAREGI, interface).verify(credentials=credentials, terminal_id=terminal_id)
    except ProviderError as exc:
        raise _refused(Provider.SMAREGI, exc) from exc
    with transaction.atomic():
        connection, _created = PosConnection.objects.select_for_update().get_or_create(
            operator=operator, provider=Provider.SMAREGI, contract_id=contract_id
        )
        # The credentials just verified are the ones to use from now on, for every terminal of the contract.
        connection.interface = interface
        if interface == Interface.SMAREGI_ACCESS:
            connection.access_token, connection.client_id, connection.client_secret = access_token, "", ""
        else:
            connection.access_token, connection.client_id, connection.client_secret = "", client_id, client_secret
        connection.token_expires_at = None
        connection.updated_at = timezone.now()
        connection.save()
        _revive_links(connection)
        if waiting is not None:
            return PosLink.objects.select_related("camera").get(pk=waiting.pk)
        return _link_create(operator=operator, connection=connection, terminal_id=terminal_id, camera=camera)


def _link_create(*, operator: Operator, connection: PosConnection, terminal_id: str, camera: Device) -> PosLink:
    _terminal_free(connection=connection, terminal_id=terminal_id)
    try:
        with transaction.atomic():
            return PosLink.objects.create(
                operator=operator, connection=connection, terminal_id=terminal_id, camera=camera
            )
    except IntegrityError as exc:  # a second admin linked the same terminal a moment ago
        raise ValidationError(
            {"terminal_id": [_linked(_("This terminal is already linked. Update its row instead."))]}
        ) from exc


def _revive_links(connection: PosConnection) -> None:
    # New credentials: links that stopped on a refused token are due again right away.
    PosLink.objects.filter(connection=connection, status=LinkStatus.TOKEN_REVOKED).update(
        status=LinkStatus.PENDING, status_detail="", next_attempt_at=None, failure_count=0
    )


# ---------------------------------------------------------------- Ubiregi: OAuth2 authorization code


def ubiregi_authorize_url(*, user: User, state: str, redirect_uri: str) -> str:
    require_admin(user)
    return get_client(Provider.UBIREGI).authorize_url(state=state, redirect_uri=redirect_uri)


def ubiregi_connect(*, operator: Operator, user: User, code: str, redirect_uri: str) -> PosConnection:
    """Exchange the authorization code for tokens, read the account, store the grant (encrypted)."""
    require_admin(user)
    client = get_client(Provider.UBIREGI)
    try:
        tokens = client.exchange_code(code=code, redirect_uri=redirect_uri)
        account = client.verify(credentials=Credentials("", tokens.access_token))
    except ProviderError as exc:
        raise _refused(Provider.UBIREGI, exc) from exc
    with transaction.atomic():
        connection, _created = PosConnection.objects.select_for_update().get_or_create(
            operator=operator, provider=Provider.UBIREGI, contract_id=account.contract_id
        )
        connection.name = account.name[:200]
        connection.terminals = [{"id": t.id, "name": t.name} for t in account.terminals]
        connection.access_token = tokens.access_token
        connection.refresh_token = tokens.refresh_token
        connection.token_expires_at = tokens.expires_at
        connection.updated_at = timezone.now()
        connection.save()
        _revive_links(connection)
    return connection


def ubiregi_link_create(
    *, operator: Operator, user: User, connection: PosConnection, terminal_id: str, camera: Device
) -> PosLink:
    require_admin(user)
    if connection.operator_id != operator.pk or connection.provider != Provider.UBIREGI:
        raise ValidationError({"connection": [_("Choose one of your Ubiregi accounts.")]})
    terminal_id = _clean_terminal(terminal_id)
    _check_camera(operator=operator, camera=camera)
    _terminal_free(connection=connection, terminal_id=terminal_id)
    if terminal_id not in {tid for tid, _label in connection.terminal_choices()}:
        # Not in the list the account gave at consent (a store added since): Ubiregi must confirm it.
        client = get_client(Provider.UBIREGI)
        try:
            client.verify(credentials=credentials_for(connection, client), terminal_id=terminal_id)
        except ProviderError as exc:
            raise _refused(Provider.UBIREGI, exc, "terminal_id") from exc
    with transaction.atomic():
        return _link_create(operator=operator, connection=connection, terminal_id=terminal_id, camera=camera)


def credentials_for(connection: PosConnection, client: PosClient, *, force_refresh: bool = False) -> Credentials:
    """Usable credentials, refreshing an OAuth token that expires within a minute (or when forced)."""
    if client.uses_client_credentials:
        expiring = not connection.access_token or (
            connection.token_expires_at is None or connection.token_expires_at <= timezone.now() + REFRESH_MARGIN
        )
        if force_refresh or expiring:
            connection = _client_token(connection, client, seen_token=connection.access_token)
        return Credentials(
            connection.contract_id, connection.access_token, connection.client_id, connection.client_secret
        )
    if not client.uses_oauth:
        return Credentials(connection.contract_id, connection.access_token)
    expiring = (
        connection.token_expires_at is not None and connection.token_expires_at <= timezone.now() + REFRESH_MARGIN
    )
    if force_refresh or expiring:
        connection = _refresh(connection, client, seen_token=connection.access_token)
    return Credentials(connection.contract_id, connection.access_token)


def _refresh(connection: PosConnection, client: PosClient, *, seen_token: str) -> PosConnection:
    # The refresh token is single use and shared by every link of the connection: lock the row so
    # that only one worker rotates it; the others find the new token already there.
    with transaction.atomic():
        locked = PosConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.access_token != seen_token:
            return locked
        tokens = client.refresh(refresh_token=locked.refresh_token)
        locked.access_token = tokens.access_token
        locked.refresh_token = tokens.refresh_token or locked.refresh_token
        locked.token_expires_at = tokens.expires_at
        locked.updated_at = timezone.now()
        locked.save(update_fields=["access_token", "refresh_token", "token_expires_at", "updated_at"])
    connection.access_token, connection.refresh_token = locked.access_token, locked.refresh_token
    connection.token_expires_at = locked.token_expires_at
    return locked


def _client_token(connection: PosConnection, client: PosClient, *, seen_token: str) -> PosConnection:
    # One worker fetches the contract's new token; the others find it already there.
    with transaction.atomic():
        locked = PosConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.access_token != seen_token and locked.token_expires_at and locked.token_expires_at > timezone.now():
            fresh = locked
        else:
            credentials = Credentials(locked.contract_id, "", locked.client_id, locked.client_secret)
            tokens = client.client_token(credentials=credentials)
            locked.access_token, locked.token_expires_at = tokens.access_token, tokens.expires_at
            locked.updated_at = timezone.now()
            locked.save(update_fields=["access_token", "token_expires_at", "updated_at"])
            fresh = locked
    connection.access_token, connection.token_expires_at = fresh.access_token, fresh.token_expires_at
    return fresh


# ---------------------------------------------------------------- rows: update, unlink


def link_update(*, user: User, link: PosLink, camera: Device, terminal_id: str | None = None) -> PosLink:
    """Change a row's camera (and terminal). A new terminal starts its listing from the beginning."""
    require_admin(user)
    operator = link.operator
    _check_camera(operator=operator, camera=camera, keep=link.camera)
    new_terminal = _clean_terminal(terminal_id) if terminal_id is not None else link.terminal_id
    if new_terminal != link.terminal_id:
        _terminal_free(connection=link.connection, terminal_id=new_terminal, exclude=link)
        client = client_of(link.connection)
        try:
            client.verify(credentials=credentials_for(link.connection, client), terminal_id=new_terminal)
        except ProviderError as exc:
            raise _refused(link.connection.provider, exc, "terminal_id") from exc
    with transaction.atomic():
        locked = PosLink.objects.select_for_update().get(pk=link.pk)
        locked.camera = camera
        if new_terminal != locked.terminal_id:
            locked.terminal_id, locked.cursor = new_terminal, ""
            locked.status, locked.status_detail, locked.next_attempt_at = LinkStatus.PENDING, "", None
        try:
            locked.save()
        except IntegrityError as exc:
            raise ValidationError({"terminal_id": [_linked(_("This terminal is already linked."))]}) from exc
    return locked


@dataclass(frozen=True)
class UnlinkSummary:
    count: int
    rows: list[str]


@transaction.atomic
def links_delete(*, user: User, links) -> UnlinkSummary:
    """Unlink the rows. Only the links go: the provider contract, the camera, its recordings, the
    stored transactions and the option license all stay (unlinking never cancels a service)."""
    require_admin(user)
    links = list(links)
    rows = [
        f"{link.connection.get_provider_display()} {link.connection.contract_id} / {link.terminal_id}" for link in links
    ]
    PosLink.objects.filter(pk__in=[link.pk for link in links]).delete()
    return UnlinkSummary(len(links), rows)
