"""Reads of POS connections, links and transactions, always scoped to one operator, and the POS
option rule deciding which cameras may be linked."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Min, Q, QuerySet

from devices.models import Device
from devices.selectors import camera_list
from licensing.models import LicenseKind
from licensing.selectors import option_license_count
from tenants.access import get_scoped_or_404, require_admin
from tenants.models import Operator, User

from .models import PosConnection, PosLink, PosTransaction, TransactionKind

# ---------------------------------------------------------------- the POS option


def pos_option_count(*, operator: Operator, at: datetime | None = None) -> int:
    """How many cameras the operator's POS option licenses cover (one option per camera)."""
    return option_license_count(operator, LicenseKind.POS_OPTION, at)


def linked_camera_ids(*, operator: Operator) -> set[int]:
    return set(PosLink.objects.for_operator(operator).values_list("camera_id", flat=True))


def option_holders(linked: list[tuple[int, datetime]], options: int) -> set[int]:
    """Which linked cameras hold one of the operator's `options` POS options: one option per
    camera, the cameras linked first keep theirs (pure: `linked` is (camera id, first link time))."""
    ordered = sorted(linked, key=lambda item: (item[1], item[0]))
    return {camera_id for camera_id, _at in ordered[: max(0, options)]}


def pos_option_holders(*, operator: Operator, at: datetime | None = None) -> set[int]:
    """The operator's linked cameras that hold a POS option now. A linked camera outside this set
    is not polled (its links show "no POS link option") until an option is assigned again."""
    linked = PosLink.objects.for_operator(operator).values("camera_id").annotate(first=Min("created_at")).order_by()
    return option_holders(
        [(row["camera_id"], row["first"]) for row in linked], pos_option_count(operator=operator, at=at)
    )


def camera_holds_pos_option(*, camera: Device, at: datetime | None = None) -> bool:
    return camera.pk in pos_option_holders(operator=camera.operator, at=at)


def pos_camera_choices(*, operator: Operator, user: User | None = None, keep: Device | None = None) -> QuerySet[Device]:
    """Cameras that may be linked now: the linked cameras holding an option, plus every other
    camera while the operator holds more POS options than linked cameras. No option: no camera.

    `keep` (a row's current camera) stays offered so a row can be saved unchanged.
    """
    cameras = camera_list(operator=operator, user=user)
    options = pos_option_count(operator=operator)
    if options <= 0:
        return cameras.none()
    linked = linked_camera_ids(operator=operator)
    if len(linked) < options:
        return cameras
    allowed = pos_option_holders(operator=operator) | ({keep.pk} if keep is not None else set())
    return cameras.filter(pk__in=allowed)


def pos_camera_choices_for_links(*, operator: Operator, links) -> dict[int, list[Device]]:
    """{link id: `pos_camera_choices(keep=link.camera)`} for a list of links, in a few queries for the
    whole list (one camera query, not one per row)."""
    links = list(links)
    cameras = camera_list(operator=operator).select_related("room", "room__building")
    options = pos_option_count(operator=operator)
    if options <= 0:
        return {link.pk: [] for link in links}
    linked = linked_camera_ids(operator=operator)
    if len(linked) < options:
        every = list(cameras)
        return {link.pk: every for link in links}
    holders = pos_option_holders(operator=operator)
    offered = list(cameras.filter(pk__in=holders | {link.camera_id for link in links}))
    return {link.pk: [c for c in offered if c.pk in holders or c.pk == link.camera_id] for link in links}


# ---------------------------------------------------------------- connections and links


def connection_list(*, operator: Operator, provider: str | None = None) -> QuerySet[PosConnection]:
    connections = PosConnection.objects.for_operator(operator)
    return connections.filter(provider=provider) if provider else connections


def access_connection(*, operator: Operator, user: User, pk, write: bool = False) -> PosConnection:
    """A POS connection of `operator`. Security guarantee: 404 for another operator's connection
    or a missing one; 403 when `write` and the user is not an admin."""
    connection = get_scoped_or_404(PosConnection.objects.all(), operator=operator, pk=pk)
    if write:
        require_admin(user)
    return connection


def link_list(*, operator: Operator, camera: Device | None = None) -> QuerySet[PosLink]:
    links = PosLink.objects.for_operator(operator).select_related("connection", "camera", "camera__room")
    if camera is not None:
        links = links.filter(camera=camera)
    return links.order_by("connection__provider", "connection__contract_id", "terminal_id", "id")


def access_link(*, operator: Operator, user: User, pk, write: bool = False) -> PosLink:
    """A POS link of `operator`. Security guarantee: 404 for another operator's link or a missing
    one (indistinguishable); 403 when `write` and the user is not an admin."""
    link = get_scoped_or_404(PosLink.objects.select_related("connection", "camera"), operator=operator, pk=pk)
    if write:
        require_admin(user)
    return link


def links_by_ids(*, operator: Operator, ids) -> QuerySet[PosLink]:
    """The operator's links among `ids`; ids of other operators or junk are silently dropped."""
    clean = [int(i) for i in ids if str(i).isdigit()]
    return link_list(operator=operator).filter(pk__in=clean)


def linked_cameras(*, operator: Operator, user: User | None = None) -> QuerySet[Device]:
    """Cameras with a link or with stored transactions (a dashboard exists for them)."""
    with_tx = PosTransaction.objects.for_operator(operator).values("camera_id")
    return (
        camera_list(operator=operator, user=user)
        .filter(Q(pk__in=linked_camera_ids(operator=operator)) | Q(pk__in=with_tx))
        .distinct()
    )


def connection_for_webhook(*, connection_id) -> PosConnection | None:
    """The Smaregi connection a push is addressed to. Callers must compare the URL's secret
    (constant time) before use; this is the only unscoped read, because a provider has no operator."""
    try:
        pk = int(connection_id)
    except (TypeError, ValueError):
        return None
    return PosConnection.objects.filter(pk=pk, provider="smaregi").first()


def connection_links(*, connection: PosConnection) -> QuerySet[PosLink]:
    return PosLink.objects.filter(connection=connection).select_related("connection", "camera")


def links_due(*, now: datetime) -> QuerySet[PosLink]:
    """Links whose backoff has passed (for the every-minute poll). A link waiting for
    re-authorization is due only at its (long) recheck time, never every minute."""
    return PosLink.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).order_by("id")


# ---------------------------------------------------------------- transactions


def transaction_list(
    *,
    operator: Operator,
    camera: Device | None = None,
    kind: str | None = None,
    q: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[PosTransaction]:
    """Transactions of `operator`, newest first. `q` searches receipt no., register no. and staff."""
    rows = PosTransaction.objects.for_operator(operator).select_related("camera")
    if camera is not None:
        rows = rows.filter(camera=camera)
    if kind and kind in TransactionKind.values:
        rows = rows.filter(kind=kind)
    if q:
        q = q.strip()
        rows = rows.filter(Q(receipt_no__icontains=q) | Q(register_no__icontains=q) | Q(staff__icontains=q))
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    if until is not None:
        rows = rows.filter(occurred_at__lt=until)
    return rows.order_by("-occurred_at", "-id")


def access_transaction(*, operator: Operator, user: User, pk) -> PosTransaction:
    """A transaction of `operator`. Security guarantee: 404 for another operator's or a missing one.
    Transactions are read-only everywhere."""
    return get_scoped_or_404(PosTransaction.objects.select_related("camera"), operator=operator, pk=pk)


def transaction_by_id(*, transaction_id) -> PosTransaction | None:
    """System-side (the thumbnail task acts for no user): the transaction with that id, or None."""
    try:
        pk = int(transaction_id)
    except (TypeError, ValueError):
        return None
    return PosTransaction.objects.select_related("camera").filter(pk=pk).first()
