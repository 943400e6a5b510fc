"""Public congestion embeds: the per-IP rate limit that protects an operator's monthly call quota."""

from django.core.exceptions import ImproperlyConfigured

from .env import env, env_int

# Image / prediction calls one client IP may make per minute to public embeds and sites; 0 = no limit.
# An auto-refreshing embed makes 1 per minute per open page, a generated site 1 per camera per minute,
# so the default leaves room for many viewers behind one office NAT while stopping a reload loop.
EMBED_RATE_LIMIT_PER_MINUTE = env_int("EMBED_RATE_LIMIT_PER_MINUTE", 120, minimum=0, maximum=1_000_000)

# Behind a reverse proxy, the request.META key of the header it sets with the client's address
# (e.g. HTTP_X_REAL_IP or HTTP_X_FORWARDED_FOR); empty = REMOTE_ADDR (no proxy).
EMBED_CLIENT_IP_HEADER = env.str("EMBED_CLIENT_IP_HEADER", default="")
if EMBED_CLIENT_IP_HEADER and not EMBED_CLIENT_IP_HEADER.startswith("HTTP_"):
    raise ImproperlyConfigured(
        "EMBED_CLIENT_IP_HEADER must be a request.META header key such as HTTP_X_REAL_IP, "
        f"got {EMBED_CLIENT_IP_HEADER!r}"
    )
