"""File storage: local disk under MEDIA_ROOT by default; S3-compatible object storage when
MEDIA_STORAGE=s3 (django-storages), so recordings can leave the machine. Media is never served
from a public URL: the portal's authorized views and signed links stream every file."""

from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, env, env_int

MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")

if MEDIA_STORAGE == "local":
    _default = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    _default = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,  # MinIO, moto, Wasabi …
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,  # names are unique per camera and time; a retry overwrites its own file
        },
    }
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, got {MEDIA_STORAGE!r}")

STORAGES = {
    "default": _default,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Recording (recording/conf.py reads these; tests override them).
RECORDING_SEGMENT_SECONDS = env_int("RECORDING_SEGMENT_SECONDS", 60, minimum=2, maximum=600)
RECORDING_QUOTA_BYTES = env_int("RECORDING_QUOTA_BYTES", 128 * 10**9, minimum=10**6)
RECORDING_SPOOL_DIR = env.path("RECORDING_SPOOL_DIR", default=str(BASE_DIR / "var" / "spool"))
RECORDING_LIVE_DIR = env.path("RECORDING_LIVE_DIR", default=str(BASE_DIR / "var" / "live"))
# Server-side motion and recorder sizing (docs/user-guide.md, "Server-side motion" and "Running the recorders").
RECORDING_MOTION_MAX_GOP_SECONDS = env_int("RECORDING_MOTION_MAX_GOP_SECONDS", 10, minimum=1, maximum=600)
RECORDING_WORKER_CPU_PERCENT = env_int("RECORDING_WORKER_CPU_PERCENT", 75, minimum=5, maximum=100)
RECORDING_WORKER_CPU_HYSTERESIS_PERCENT = env_int("RECORDING_WORKER_CPU_HYSTERESIS_PERCENT", 10, minimum=1, maximum=50)
# Live view's feed: each ingest process serves its cameras' fMP4 here to the web hosts (docs/deployment.md).
LIVE_FEED_BIND = env.str("LIVE_FEED_BIND", default="127.0.0.1:0")
LIVE_FEED_ADVERTISE = env.str("LIVE_FEED_ADVERTISE", default="")
