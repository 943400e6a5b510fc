"""This app's settings with their defaults, read lazily so tests can override them."""

from pathlib import Path

from django.conf import settings


def mail_sink_dir() -> Path:
    """Where the demo SMTP sink stores received mails (and the staff page reads them)."""
    return Path(getattr(settings, "RECORDING_MAIL_SINK_DIR", settings.BASE_DIR / "var" / "mail-sink"))


# ----------------------------------------------------------------------------- recording pipeline
# Every value has a production default; tests shorten the durations through settings overrides.


def _setting(name: str, default):
    return getattr(settings, name, default)


def segment_seconds() -> int:
    """Length of a continuous-recording segment (60 in production: ~1-minute files on clock minutes)."""
    return int(_setting("RECORDING_SEGMENT_SECONDS", 60))


def default_quota_bytes() -> int:
    return int(_setting("RECORDING_QUOTA_BYTES", 128 * 10**9))


def spool_dir() -> Path:
    """Local folder where ffmpeg writes the segment being recorded, before it goes to storage."""
    return Path(_setting("RECORDING_SPOOL_DIR", settings.BASE_DIR / "var" / "spool"))


def live_dir() -> Path:
    """Folder of the live HLS playlists; shared by the ingest workers and the web (same machine or volume)."""
    return Path(_setting("RECORDING_LIVE_DIR", settings.BASE_DIR / "var" / "live"))


def lease_seconds() -> float:
    """How long a worker's claim on a camera lasts without a renewal; another worker may take it after."""
    return float(_setting("RECORDING_LEASE_SECONDS", 30))


def tick_seconds() -> float:
    return float(_setting("RECORDING_TICK_SECONDS", 5))


def stall_seconds() -> float:
    return float(_setting("RECORDING_STALL_SECONDS", 10))


def probe_timeout() -> float:
    """How long a trouble check waits for each of the camera's answers (its ONVIF service, its stream, its
    storage state) before it takes the camera as unreachable (NETWORK). 8 s, as the ingest worker's own probe:
    a healthy stream's answer takes about 4 s by itself (ffprobe analyses 3 s of it), so 5 s left a busy
    server or a distant camera one second before a camera that sends video read as disconnected (a trouble
    mail, and a recovery mail at the next check). A camera that refuses fails at once, one that is silent
    after a third of this (the RTSP handshake's step); only a silent ONVIF service waits all of it."""
    return float(_setting("RECORDING_PROBE_TIMEOUT", 8.0))


def pre_roll_seconds() -> float:
    return float(_setting("RECORDING_PRE_ROLL_SECONDS", 6))


def post_roll_seconds() -> float:
    return float(_setting("RECORDING_POST_ROLL_SECONDS", 5))


def clip_days() -> int:
    return int(_setting("RECORDING_CLIP_DAYS", 30))


def export_max_count() -> int:
    return int(_setting("RECORDING_EXPORT_MAX_COUNT", 10))


def export_days() -> int:
    return int(_setting("RECORDING_EXPORT_DAYS", 7))


def export_max_minutes() -> int:
    return int(_setting("RECORDING_EXPORT_MAX_MINUTES", 60))


def motion_fps() -> float:
    return float(_setting("RECORDING_MOTION_FPS", 4))


def live_idle_seconds() -> float:
    """A live HLS stream stops this long after the last viewer's request."""
    return float(_setting("RECORDING_LIVE_IDLE_SECONDS", 60))


def live_start_wait_seconds() -> float:
    """How long the live view waits for a camera's HLS stream to start before it shows a picture every 2 s
    instead; it goes on asking, and plays the stream once it is there (recording/static/recording/live.js)."""
    return float(_setting("RECORDING_LIVE_START_WAIT_SECONDS", 60))


def ingest_worker_stale_seconds() -> float:
    return float(_setting("RECORDING_WORKER_STALE_SECONDS", 60))


def max_event_seconds() -> float:
    """A longer motion is reported in parts, so event clips stay about a minute long with the rolls."""
    return float(_setting("RECORDING_MAX_EVENT_SECONDS", 50))


# ----------------------------------------------------------------------------- server-side motion, worker sizing


def motion_max_gop_seconds() -> float:
    """A camera whose keyframes come this far apart (or more) is watched by a full decode instead: motion
    from keyframes alone would be noticed too late for the pre-roll to cover it."""
    return float(_setting("RECORDING_MOTION_MAX_GOP_SECONDS", 10))


def sub_stream_retry_seconds() -> float:
    """After a sub-stream stopped (motion fell back to the main stream), how long before trying it again."""
    return float(_setting("RECORDING_SUB_STREAM_RETRY_SECONDS", 300))


def onvif_events_seconds() -> float:
    """The termination time asked for an ONVIF event subscription (renewed at 80 % of what is granted)."""
    return float(_setting("RECORDING_ONVIF_EVENTS_SECONDS", 60))


def onvif_events_retry_seconds() -> float:
    """After an ONVIF event subscription failed (server-side motion meanwhile), how long before trying again."""
    return float(_setting("RECORDING_ONVIF_EVENTS_RETRY_SECONDS", 60))


def worker_cpu_share() -> float:
    """The share of its cores a recorder may use (its own process tree, measured): it takes cameras while
    under it and gives cameras back, for other workers to take, when over by the hysteresis."""
    return int(_setting("RECORDING_WORKER_CPU_PERCENT", 75)) / 100


def worker_cpu_hysteresis() -> float:
    return int(_setting("RECORDING_WORKER_CPU_HYSTERESIS_PERCENT", 10)) / 100


def live_feed_bind() -> str:
    """host:port of each ingest process's live feed server (workers/live.py); port 0 picks a free one, ""
    turns the feed off. Only the web hosts may reach it (docs/deployment.md)."""
    return str(_setting("LIVE_FEED_BIND", "127.0.0.1:0"))


def live_feed_advertise() -> str:
    """The host (or host:port) web hosts connect to when it is not the bound one (a 0.0.0.0 bind, NAT)."""
    return str(_setting("LIVE_FEED_ADVERTISE", ""))
