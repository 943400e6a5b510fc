"""Celery and cache: Redis when REDIS_URL is set, otherwise an embedded set-up with no server."""

from .env import BASE_DIR, env, env_url

REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",  # one client per pool, not per operation
            "LOCATION": REDIS_URL,
            # JSON, never pickle: a value planted in Redis must not be able to run code (portal/cache.py).
            "OPTIONS": {"serializer": "portal.cache.JSONSerializer"},
        }
    }
else:
    # kombu's filesystem transport: a real broker in a folder, so workers and beat run with
    # no Redis or RabbitMQ on a laptop. One machine only; production sets REDIS_URL.
    _queue_dir = BASE_DIR / "var" / "celery"
    for _sub in ("in", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(BASE_DIR / "var" / "cache"),
        }
    }

# Template fragments that are a pure function of their key (templates/base.html's menu): each process
# keeps its own, with no round trip to a server.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-fragments",
    "TIMEOUT": 600,
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = env.str("TIME_ZONE", default="Asia/Tokyo")
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["licensing-send-expiry-reminders"] = {"task": "licensing.send_expiry_reminders", "schedule": 600.0}
CELERY_BEAT_SCHEDULE["licensing-process-expiries"] = {"task": "licensing.process_expiries", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["pos-link-poll-due"] = {"task": "pos_link.poll_due", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["tenants-purge-login-history"] = {"task": "tenants.purge_login_history", "schedule": 6 * 3600.0}
CELERY_BEAT_SCHEDULE["recording-supervise-ingest"] = {"task": "recording.supervise_ingest", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["recording-expire-media"] = {"task": "recording.expire_media", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["recording-close-mail-cooldowns"] = {"task": "recording.close_mail_cooldowns", "schedule": 30.0}
# Congestion: the scheduler at each minute's start (it spreads cameras over the minute itself),
# predictions daily around 03:00, retention (monitoring frames 24 h, analyses 12 months) hourly.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["congestion-schedule-minute"] = {"task": "congestion.schedule_minute", "schedule": crontab()}
CELERY_BEAT_SCHEDULE["congestion-predictions"] = {
    "task": "congestion.recompute_predictions",
    "schedule": crontab(hour=3, minute=0),
}
CELERY_BEAT_SCHEDULE["congestion-purge"] = {"task": "congestion.purge", "schedule": crontab(minute=17)}
# Public embeds: copy the live call counters from Redis into PostgreSQL (idempotent, safe to kill).
CELERY_BEAT_SCHEDULE["congestion-flush-embed-calls"] = {"task": "congestion.flush_embed_calls", "schedule": 60.0}
