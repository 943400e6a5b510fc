"""The embed call-count flusher: copies the live Redis counters into PostgreSQL every minute.

Idempotent and safe to kill at any point (see embeds/quota.py): it only copies, with GREATEST.
"""

from celery import shared_task

from . import quota


# The name predates the embeds app; the beat schedule (portal/settings/celery.py) and queued messages use it.
@shared_task(name="congestion.flush_embed_calls", ignore_result=True)
def flush_embed_calls() -> int:
    return quota.flush()
