"""Ingestion: polling a link page by page, storing rows idempotently, and Smaregi's pushes.

Nothing is lost or doubled across retries, crashes and provider faults: each page of rows is
stored with its cursor in one database transaction, rows are upserted by the provider's
transaction ID, and a fault leaves the cursor where it was, with the link's status saying why
and when it last succeeded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import providers
from .models import LinkStatus, PosConnection, PosLink, PosTransaction, Provider, TransactionKind, WebhookState
from .providers import MalformedResponse, ProviderError, TokenRevoked
from .selectors import camera_holds_pos_option, connection_links
from .services import client_of, credentials_for
from .tasks import make_thumbnail, poll_link

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 60 * 60
LEASE = timedelta(minutes=10)
MAX_PAGES_PER_POLL = 50
# A link that needs re-authorization is looked at again this rarely (a provider's passing 401 heals
# by itself; a real revocation costs one call per connection every few hours, not a retry storm).
REAUTH_RECHECK = timedelta(hours=6)


@dataclass(frozen=True)
class PollResult:
    outcome: str  # "ok", "failed", "busy", "gone", "stopped" (no POS option)
    stored: int = 0
    status: str = ""


def backoff_seconds(failures: int, retry_after: float | None = None) -> float:
    """1, 2, 4 … minutes, at most an hour; never sooner than the provider's Retry-After."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1), BACKOFF_MAX_SECONDS)
    return max(delay, retry_after or 0)


def _claim(link_id: int, now: datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return PosLink.objects.filter(pk=link_id).filter(free).update(lease_until=now + LEASE) == 1


def links_without_option_stop(*, link_ids: list[int], now: datetime) -> int:
    """Mark links whose camera lost its POS option; nothing is fetched for them, the cursor stays,
    and the first poll after an option is assigned again continues from it."""
    return (
        PosLink.objects.filter(pk__in=link_ids)
        .exclude(status=LinkStatus.NO_OPTION)
        .update(
            status=LinkStatus.NO_OPTION,
            status_detail="",  # the pages explain it in the reader's language
            last_attempt_at=now,
            next_attempt_at=None,
        )
    )


def link_poll(*, link_id: int, now: datetime | None = None, max_pages: int = MAX_PAGES_PER_POLL) -> PollResult:
    """Pull the terminal's new transactions page by page; each page is stored with its cursor in one
    transaction, so a crash or a provider error loses nothing and a retry duplicates nothing.

    Only a camera holding the POS option is polled; one without stops (and says so) until an
    option is assigned again, then continues from its cursor."""
    now = now or timezone.now()
    link = PosLink.objects.select_related("connection", "camera", "camera__operator").filter(pk=link_id).first()
    if link is None:
        return PollResult("gone")
    if not camera_holds_pos_option(camera=link.camera, at=now):
        links_without_option_stop(link_ids=[link_id], now=now)
        return PollResult("stopped", 0, LinkStatus.NO_OPTION)
    if not _claim(link_id, now):
        return PollResult("busy")
    stored = 0
    try:
        client = client_of(link.connection)
        refreshed = False
        pages = 0
        while pages < max_pages:
            try:
                credentials = credentials_for(link.connection, client)
                page = client.fetch_page(credentials=credentials, terminal_id=link.terminal_id, cursor=link.cursor)
            except TokenRevoked:
                if not (client.uses_oauth or client.uses_client_credentials) or refreshed:
                    raise
                refreshed = True  # a token that expired early (mid-poll): one refresh, then try again
                credentials_for(link.connection, client, force_refresh=True)
                continue
            stored += store_page(link=link, transactions=page.transactions, cursor=page.next_cursor)
            pages += 1
            if page.incomplete:
                raise MalformedResponse(page.incomplete)
            if not page.has_more:
                break
    except ProviderError as exc:
        _mark_failed(link, exc, now)
        log.info("POS link %s: %s (%s)", link_id, exc.status, exc.reason)
        return PollResult("failed", stored, exc.status)
    except PosConnection.DoesNotExist:
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


def _mark_failed(link: PosLink, exc: ProviderError, now: datetime) -> None:
    if isinstance(exc, TokenRevoked):
        # The credentials are the connection's: every terminal of it waits for re-authorization
        # together, and is looked at again only after REAUTH_RECHECK (no retry storm).
        PosLink.objects.filter(connection_id=link.connection_id).update(
            status=LinkStatus.TOKEN_REVOKED,
            status_detail=exc.reason[:300],
            last_attempt_at=now,
            next_attempt_at=now + REAUTH_RECHECK,
        )
        return
    with transaction.atomic():
        locked = PosLink.objects.select_for_update().filter(pk=link.pk).first()
        if locked is None:
            return
        locked.failure_count += 1
        locked.status = exc.status
        locked.status_detail = exc.reason[:300]
        locked.last_attempt_at = now
        locked.next_attempt_at = now + timedelta(seconds=backoff_seconds(locked.failure_count, exc.retry_after))
        locked.save(update_fields=["failure_count", "status", "status_detail", "last_attempt_at", "next_attempt_at"])


UPDATED_FIELDS = [
    "kind",
    "occurred_at",
    "server_at",
    "receipt_no",
    "register_no",
    "staff",
    "total",
    "deposit",
    "change",
    "entered_at",
    "payment_method",
    "void_id",
    "raw",
    "updated_at",
]


def _kind(new, old: PosTransaction | None) -> str:
    # A payment seen again with other amounts was corrected at the register: that is "modify".
    if old is not None and old.void_id:
        return TransactionKind.CANCEL  # voided once, a cancellation for good
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


def _row(link: PosLink, t, *, provider_id: str, kind: str, void_id: str, now: datetime) -> PosTransaction:
    return PosTransaction(
        operator_id=link.operator_id,
        link=link,
        camera_id=link.camera_id,
        provider=link.connection.provider,
        contract_id=link.connection.contract_id,
        provider_transaction_id=provider_id,
        occurred_at=t.occurred_at,
        server_at=t.server_at,
        kind=kind,
        receipt_no=t.receipt_no[:64],
        register_no=t.register_no[:32],
        staff=t.staff[:100],
        total=t.total,
        deposit=t.deposit,
        change=t.change,
        entered_at=t.entered_at,
        payment_method=t.payment_method[:100],
        void_id=void_id[:64],
        raw=t.raw,
        created_at=now,
        updated_at=now,
    )


def store_page(*, link: PosLink, transactions, cursor: str | None) -> int:
    """Upsert the rows (unique by the provider's transaction ID) and, in the same transaction, move
    the cursor past them. Returns how many rows were new.

    A voiding record (Smaregi disposeDivision 2) is no row of its own: it makes its original a
    cancellation. When the original is not stored (older than the link), the cancellation is
    stored under the original's ID from the void's own data, and the original replaces that data
    when it comes, staying one cancelled row."""
    with transaction.atomic():
        sales, voids = {}, {}
        for t in transactions:  # a page may repeat a row; the last wins
            if t.cancels:
                voids[t.cancels] = t
            else:
                sales[t.provider_id] = t
        wanted = set(sales) | set(voids)
        scope = PosTransaction.objects.filter(
            operator_id=link.operator_id, provider=link.connection.provider, contract_id=link.connection.contract_id
        )
        existing = {
            row.provider_transaction_id: row
            for row in scope.select_for_update().filter(provider_transaction_id__in=list(wanted))
        }
        now = timezone.now()
        rows = []
        for pid, t in sales.items():
            old = existing.get(pid)
            void = voids.get(pid)
            void_id = void.provider_id if void else (old.void_id if old else "")
            kind = TransactionKind.CANCEL if void_id else _kind(t, old)
            rows.append(_row(link, t, provider_id=pid, kind=kind, void_id=void_id, now=now))
        for pid, v in voids.items():
            if pid in sales:
                continue
            old = existing.get(pid)
            if old is not None:
                scope.filter(pk=old.pk).update(kind=TransactionKind.CANCEL, void_id=v.provider_id[:64], updated_at=now)
            else:
                rows.append(_row(link, v, provider_id=pid, kind=TransactionKind.CANCEL, void_id=v.provider_id, now=now))
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
        new_ids = [key for key in wanted if key not in existing]
        if new_ids:
            ids = list(scope.filter(provider_transaction_id__in=new_ids).values_list("pk", flat=True))
            transaction.on_commit(lambda: _queue_thumbnails(ids))
    return len(new_ids)


def _queue_thumbnails(transaction_ids: list[int]) -> None:
    for pk in transaction_ids:
        make_thumbnail.delay(pk)


@dataclass(frozen=True)
class WebhookResult:
    stored: int
    ignored: int


def webhook_refused(*, connection: PosConnection, state: str, detail: str) -> None:
    """Say on the link page that a push was refused (wrong secret / contract, or not the documented
    format); the time of the last accepted push stays."""
    PosConnection.objects.filter(pk=connection.pk).update(
        webhook_state=state, webhook_detail=detail[:300], webhook_at=timezone.now()
    )


def webhook_receive(*, connection: PosConnection, proc_name: str, params) -> WebhookResult:
    """A Smaregi API送信 push: `proc_name` and `params` {"data": [{"table_name": "TransactionHead",
    "rows": [...]}, ...]}. TransactionHead rows are stored under the links of their terminal, like
    polled rows; other tables and terminals without a link are ignored. The polling cursor is left
    alone, so polling still covers anything a push missed.

    A malformed push raises ValidationError (nothing stored) and is recorded on the connection."""
    if connection.provider != Provider.SMAREGI:
        raise ValidationError(_("This provider does not send webhooks."))
    try:
        rows = _pushed_rows(proc_name, params)
        transactions = [providers.smaregi.transaction_from_row(row) for row in rows]
    except (MalformedResponse, ValidationError) as exc:
        reason = exc.reason if isinstance(exc, ProviderError) else "; ".join(exc.messages)
        webhook_refused(connection=connection, state=WebhookState.MALFORMED, detail=reason)
        raise ValidationError(
            _("The push is not in Smaregi's documented format: %(reason)s") % {"reason": reason}
        ) from exc
    links = {link.terminal_id: link for link in connection_links(connection=connection)}
    stored = ignored = 0
    by_terminal: dict[str, list] = {}
    for t in transactions:
        if t.register_no in links:
            by_terminal.setdefault(t.register_no, []).append(t)
        else:
            ignored += 1
    for terminal_id, batch in by_terminal.items():
        stored += store_page(link=links[terminal_id], transactions=batch, cursor=None)
    now = timezone.now()
    PosConnection.objects.filter(pk=connection.pk).update(
        webhook_state=WebhookState.OK, webhook_detail="", webhook_at=now, webhook_success_at=now
    )
    return WebhookResult(stored, ignored)


def webhook_poll_now(*, connection: PosConnection) -> int:
    """A Platform API webhook names new transaction IDs only: the contract's links that are not
    waiting (for re-authorization or a POS option) poll at once; polling fetches the rows."""
    ids = list(
        connection_links(connection=connection)
        .exclude(status__in=[LinkStatus.TOKEN_REVOKED, LinkStatus.NO_OPTION])
        .values_list("pk", flat=True)
    )
    PosLink.objects.filter(pk__in=ids).update(next_attempt_at=None)
    now = timezone.now()
    PosConnection.objects.filter(pk=connection.pk).update(
        webhook_state=WebhookState.OK, webhook_detail="", webhook_at=now, webhook_success_at=now
    )
    transaction.on_commit(lambda: [poll_link.delay(pk) for pk in ids])
    return len(ids)


MAX_PUSH_ROWS = 5000


def _pushed_rows(proc_name: str, params) -> list:
    if not isinstance(proc_name, str) or not proc_name.startswith("transaction"):
        if isinstance(proc_name, str) and proc_name:
            return []  # another table's push (stock, products …): nothing for the POS link
        raise ValidationError(_("proc_name is missing."))
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError as exc:
            raise ValidationError(_("params is not JSON.")) from exc
    if not isinstance(params, dict) or not isinstance(params.get("data"), list):
        raise ValidationError(_("params has no data list."))
    rows = []
    for table in params["data"]:
        if not isinstance(table, dict) or not isinstance(table.get("rows", []), list):
            raise ValidationError(_("A data entry has no rows list."))
        if table.get("table_name") == "TransactionHead":
            rows.extend(table.get("rows", []))
    if len(rows) > MAX_PUSH_ROWS:
        raise ValidationError(_("A push may carry at most %(max)d transactions.") % {"max": MAX_PUSH_ROWS})
    return rows
