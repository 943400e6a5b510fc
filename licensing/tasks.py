"""Beat tasks: expiry reminders and auto-assignment on expiry. Both are idempotent and may run late."""

from celery import shared_task


@shared_task(name="licensing.send_expiry_reminders", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_expiry_reminders() -> int:
    from . import services

    return services.reminders_send()


@shared_task(name="licensing.process_expiries", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_expiries() -> int:
    from . import services

    return services.licenses_process_expiries()
