"""Public congestion embeds: the per-IP rate limit that protects an operator's monthly call quota."""

from .env import env_int

# Image / prediction calls one client IP may make per minute to public embeds and sites; 0 = no limit.
# An auto-refreshing embed makes 1 per minute per open page, a generated site 1 per camera per minute,
# so the default leaves room for many viewers behind one office NAT while stopping a reload loop.
EMBED_RATE_LIMIT_PER_MINUTE = env_int("EMBED_RATE_LIMIT_PER_MINUTE", 120, minimum=0, maximum=1_000_000)
