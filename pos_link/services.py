"""Writes of the POS link: linking terminals (checked against the provider first), updating and
unlinking rows, the OAuth connection, and ingestion (polling and webhooks).

Provider calls are never made inside a database transaction that writes rows a user waits for;
they happen first, and only a successful answer leads to one atomic write. A refused answer saves
nothing and comes back as a ValidationError carrying the provider's own reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from tenants.access import require_admin
from tenants.models import Operator, User

from . import providers
from .models import LinkStatus, PosConnection, PosLink, PosTransaction, Provider, TransactionKind
from .providers import Credentials, CredentialsRefused, PosClient, ProviderError, TokenRevoked
from .selectors import pos_camera_choices

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 60 * 60
LEASE = timedelta(minutes=10)
MAX_PAGES_PER_POLL = 50
REFRESH_MARGIN = timedelta(seconds=60)
TERMINAL_MAX = 32
CONTRACT_MAX = 64


def get_client(provider: str) -> PosClient:
    """The client for `provider` (one seam for tests that need a misbehaving client)."""
    return providers.client_for(provider)


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
            {"camera": [_("This camera does not hold the POS link option. Ask your partner for a POS option license.")]}
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


def _terminal_free(*, connection: PosConnection | None, terminal_id: str, exclude: PosLink | None = None) -> None:
    if connection is None:
        return
    taken = PosLink.objects.filter(connection=connection, terminal_id=terminal_id)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"terminal_id": [_("This terminal is already linked. Update its row instead.")]})


# ---------------------------------------------------------------- Smaregi: contract ID + token by hand


def smaregi_link_create(
    *, operator: Operator, user: User, contract_id: str, access_token: str, terminal_id: str, camera: Device
) -> PosLink:
    """Check the contract ID, token and terminal with Smaregi, then save the link (or nothing)."""
    require_admin(user)
    contract_id = (contract_id or "").strip()
    access_token = (access_token or "").strip()
    errors = {}
    if not contract_id or len(contract_id) > CONTRACT_MAX:
        errors["contract_id"] = [_("Enter the contract ID (at most 64 characters).")]
    if not access_token:
        errors["access_token"] = [_("Enter the access token.")]
    if errors:
        raise ValidationError(errors)
    terminal_id = _clean_terminal(terminal_id)
    _check_camera(operator=operator, camera=camera)
    existing = PosConnection.objects.for_operator(operator).filter(provider=Provider.SMAREGI, contract_id=contract_id)
    _terminal_free(connection=existing.first(), terminal_id=terminal_id)
    try:
        get_client(Provider.SMAREGI).verify(credentials=Credentials(contract_id, access_token), terminal_id=terminal_id)
    except ProviderError as exc:
        raise _refused(Provider.SMAREGI, exc) from exc
    with transaction.atomic():
        connection, _created = PosConnection.objects.select_for_update().get_or_create(
            operator=operator, provider=Provider.SMAREGI, contract_id=contract_id
        )
        # The token just verified is the one to use from now on, for every terminal of the contract.
        connection.access_token = access_token
        connection.updated_at = timezone.now()
        connection.save()
        _revive_links(connection)
        return _link_create(operator=operator, connection=connection, terminal_id=terminal_id, camera=camera)


def _link_create(*, operator: Operator, connection: PosConnection, terminal_id: str, camera: Device) -> PosLink:
    _terminal_free(connection=connection, terminal_id=terminal_id)
    try:
        with transaction.atomic():
            return PosLink.objects.create(
                operator=operator, connection=connection, terminal_id=terminal_id, camera=camera
            )
    except IntegrityError as exc:  # a second admin linked the same terminal a moment ago
        raise ValidationError({"terminal_id": [_("This terminal is already linked. Update its row instead.")]}) from exc


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
        connection.terminals = list(account.terminals)
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
    if terminal_id not in connection.terminals:
        client = get_client(Provider.UBIREGI)
        try:
            client.verify(credentials=credentials_for(connection, client), terminal_id=terminal_id)
        except ProviderError as exc:
            raise _refused(Provider.UBIREGI, exc, "terminal_id") from exc
    with transaction.atomic():
        return _link_create(operator=operator, connection=connection, terminal_id=terminal_id, camera=camera)


def credentials_for(connection: PosConnection, client: PosClient, *, force_refresh: bool = False) -> Credentials:
    """Usable credentials, refreshing an OAuth token that expires within a minute (or when forced)."""
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


# ---------------------------------------------------------------- rows: update, unlink


def link_update(*, user: User, link: PosLink, camera: Device, terminal_id: str | None = None) -> PosLink:
    """Change a row's camera (and terminal). A new terminal starts its listing from the beginning."""
    require_admin(user)
    operator = link.operator
    _check_camera(operator=operator, camera=camera, keep=link.camera)
    new_terminal = _clean_terminal(terminal_id) if terminal_id is not None else link.terminal_id
    if new_terminal != link.terminal_id:
        _terminal_free(connection=link.connection, terminal_id=new_terminal, exclude=link)
        client = get_client(link.connection.provider)
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
            raise ValidationError({"terminal_id": [_("This terminal is already linked.")]}) from exc
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


# ---------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class PollResult:
    outcome: str  # "ok", "failed", "busy", "gone"
    stored: int = 0
    status: str = ""


def backoff_seconds(failures: int, retry_after: float | None = None) -> float:
    """1, 2, 4 … minutes, at most an hour; never sooner than the provider's Retry-After."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1), BACKOFF_MAX_SECONDS)
    return max(delay, retry_after or 0)


def _claim(link_id: int, now: datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return PosLink.objects.filter(pk=link_id).filter(free).update(lease_until=now + LEASE) == 1


def link_poll(*, link_id: int, now: datetime | None = None, max_pages: int = MAX_PAGES_PER_POLL) -> PollResult:
    """Pull the terminal's new transactions page by page; each page is stored with its cursor in one
    transaction, so a crash or a provider error loses nothing and a retry duplicates nothing."""
    now = now or timezone.now()
    if not PosLink.objects.filter(pk=link_id).exists():
        return PollResult("gone")
    if not _claim(link_id, now):
        return PollResult("busy")
    stored = 0
    try:
        link = PosLink.objects.select_related("connection", "camera").get(pk=link_id)
        client = get_client(link.connection.provider)
        refreshed = False
        pages = 0
        while pages < max_pages:
            try:
                credentials = credentials_for(link.connection, client)
                page = client.fetch_page(credentials=credentials, terminal_id=link.terminal_id, cursor=link.cursor)
            except TokenRevoked:
                if not client.uses_oauth or refreshed:
                    raise
                refreshed = True  # an early-expired access token: one refresh, then try again
                credentials_for(link.connection, client, force_refresh=True)
                continue
            stored += store_page(link=link, transactions=page.transactions, cursor=page.next_cursor)
            pages += 1
            if not page.has_more:
                break
    except ProviderError as exc:
        _mark_failed(link_id, exc, now)
        log.info("POS link %s: %s (%s)", link_id, exc.status, exc.reason)
        return PollResult("failed", stored, exc.status)
    except PosLink.DoesNotExist:
        return PollResult("gone", stored)
    finally:
        PosLink.objects.filter(pk=link_id).update(lease_until=None)
    PosLink.objects.filter(pk=link_id).update(
        status=LinkStatus.OK,
        status_detail="",
        last_success_at=now,
        last_attempt_at=now,
        failure_count=0,
        next_attempt_at=None,
    )
    return PollResult("ok", stored, LinkStatus.OK)


def _mark_failed(link_id: int, exc: ProviderError, now: datetime) -> None:
    with transaction.atomic():
        link = PosLink.objects.select_for_update().filter(pk=link_id).first()
        if link is None:
            return
        link.failure_count += 1
        link.status = exc.status
        link.status_detail = exc.reason[:300]
        link.last_attempt_at = now
        link.next_attempt_at = now + timedelta(seconds=backoff_seconds(link.failure_count, exc.retry_after))
        link.save(update_fields=["failure_count", "status", "status_detail", "last_attempt_at", "next_attempt_at"])


UPDATED_FIELDS = [
    "kind",
    "occurred_at",
    "receipt_no",
    "register_no",
    "staff",
    "total",
    "deposit",
    "change",
    "entered_at",
    "payment_method",
    "raw",
    "updated_at",
]


def _kind(new, old: PosTransaction | None) -> str:
    # A payment seen again with other amounts was corrected at the register: that is "modify".
    if old is None or new.kind != TransactionKind.PAYMENT:
        return new.kind
    if old.kind == TransactionKind.MODIFY:
        return TransactionKind.MODIFY
    if old.kind == TransactionKind.PAYMENT and (old.total, old.deposit, old.change) != (
        new.total,
        new.deposit,
        new.change,
    ):
        return TransactionKind.MODIFY
    return new.kind


def save_cursor(link: PosLink, cursor: str) -> None:
    PosLink.objects.filter(pk=link.pk).update(cursor=cursor)
    link.cursor = cursor


def store_page(*, link: PosLink, transactions, cursor: str | None) -> int:
    """Upsert the rows (unique by the provider's transaction ID) and, in the same transaction, move
    the cursor past them. Returns how many rows were new."""
    with transaction.atomic():
        latest = {t.provider_id: t for t in transactions}  # a page may repeat a row; the last wins
        scope = PosTransaction.objects.filter(
            operator_id=link.operator_id, provider=link.connection.provider, contract_id=link.connection.contract_id
        )
        existing = {
            row.provider_transaction_id: row
            for row in scope.select_for_update().filter(provider_transaction_id__in=list(latest))
        }
        now = timezone.now()
        rows = [
            PosTransaction(
                operator_id=link.operator_id,
                link=link,
                camera_id=link.camera_id,
                provider=link.connection.provider,
                contract_id=link.connection.contract_id,
                provider_transaction_id=t.provider_id,
                occurred_at=t.occurred_at,
                kind=_kind(t, existing.get(t.provider_id)),
                receipt_no=t.receipt_no[:64],
                register_no=t.register_no[:32],
                staff=t.staff[:100],
                total=t.total,
                deposit=t.deposit,
                change=t.change,
                entered_at=t.entered_at,
                payment_method=t.payment_method[:100],
                raw=t.raw,
                created_at=now,
                updated_at=now,
            )
            for t in latest.values()
        ]
        if rows:
            # ON CONFLICT (operator, provider, contract, provider id) DO UPDATE: the first camera and
            # link a transaction was stored under stay; its amounts and kind follow the provider.
            PosTransaction.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["operator", "provider", "contract_id", "provider_transaction_id"],
                update_fields=UPDATED_FIELDS,
            )
        if cursor is not None:
            save_cursor(link, cursor)
        new_ids = [key for key in latest if key not in existing]
        if new_ids:
            ids = list(scope.filter(provider_transaction_id__in=new_ids).values_list("pk", flat=True))
            transaction.on_commit(lambda: _queue_thumbnails(ids))
    return len(new_ids)


def _queue_thumbnails(transaction_ids: list[int]) -> None:
    from .tasks import make_thumbnail  # tasks imports this module

    for pk in transaction_ids:
        make_thumbnail.delay(pk)


def webhook_receive(*, link: PosLink, rows: list) -> int:
    """Rows pushed by the provider (Smaregi's API sending, TransactionHead rows) for this link's
    terminal. Stored like polled rows; the polling cursor is left alone, so polling still covers
    anything a push missed."""
    if link.connection.provider != Provider.SMAREGI:
        raise ValidationError(_("This provider does not send webhooks."))
    if not isinstance(rows, list):
        raise ValidationError(_("Expected a list of transactions."))
    try:
        transactions = [providers.smaregi.transaction_from_row(row) for row in rows]
    except ProviderError as exc:
        raise ValidationError(exc.reason) from exc
    mine = [t for t in transactions if t.register_no in ("", link.terminal_id)]
    return store_page(link=link, transactions=mine, cursor=None)
