"""Ingestion tasks. `poll_due` runs every minute (celery beat) and queues one `poll_link` per link
whose backoff has passed and whose camera holds a POS option; `poll_link` takes an id only and
calls the service.

Nothing is lost or doubled across retries and worker restarts: a poll claims its link with a
lease (a second worker finds it busy), each page of rows is stored with its cursor in one
database transaction, and rows are upserted by the provider's transaction ID. Provider errors are
not Celery retries: the link's own backoff (next_attempt_at, kept in the database) decides when
the next minute's `poll_due` picks it up again, so a worker restart forgets nothing.

The POS option is enforced here, not only on the pages: a link whose camera has lost its option
is marked "no POS link option" and not polled; its cursor stays, so the first poll after an
option is assigned again continues where it stopped.
"""

from celery import shared_task
from django.utils import timezone

from . import thumbnails
from .selectors import links_due, pos_option_holders, transaction_by_id


@shared_task(name="pos_link.poll_due")
def poll_due() -> int:
    from .ingestion import links_without_option_stop

    now = timezone.now()
    due = list(links_due(now=now).select_related("operator"))
    holders: dict[int, set[int]] = {}
    queued, stopped = [], []
    for link in due:
        if link.operator_id not in holders:
            holders[link.operator_id] = pos_option_holders(operator=link.operator, at=now)
        (queued if link.camera_id in holders[link.operator_id] else stopped).append(link.pk)
    if stopped:
        links_without_option_stop(link_ids=stopped, now=now)
    for link_id in queued:
        poll_link.delay(link_id)
    return len(queued)


@shared_task(name="pos_link.poll_link", acks_late=True)
def poll_link(link_id: int) -> str:
    from .ingestion import link_poll

    return link_poll(link_id=link_id).outcome


@shared_task(name="pos_link.make_thumbnail", bind=True, max_retries=20, acks_late=True)
def make_thumbnail(self, transaction_id: int) -> str:
    """Cut one transaction's thumbnail from the recording; while its minute is still being recorded,
    try again a segment later (the service gives up by itself once no recording can come)."""
    tx = transaction_by_id(transaction_id=transaction_id)
    if tx is None:
        return "gone"
    outcome = thumbnails.transaction_thumbnail_make(tx=tx)
    if outcome == thumbnails.WAIT and not self.request.is_eager:
        # Eager mode (tests) would re-run at once instead of later; there the view cuts it lazily.
        raise self.retry(countdown=thumbnails.retry_seconds())
    return outcome
