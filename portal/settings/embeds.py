"""Public congestion embeds: the per-IP rate limit and the per-key ceiling that protect an operator's
monthly call quota."""

from .env import env_int

# Image / prediction calls one client IP may make per minute to public embeds and sites; 0 = no limit.
# An auto-refreshing embed makes 1 per minute per open page, a generated site 1 per camera per minute,
# so the default leaves room for many viewers behind one office NAT while stopping a reload loop.
EMBED_RATE_LIMIT_PER_MINUTE = env_int("EMBED_RATE_LIMIT_PER_MINUTE", 120, minimum=0, maximum=1_000_000)

# Image / prediction calls one public embed may receive per minute from all clients together: a camera
# or group embed key, or one camera of a generated site; 0 = no ceiling. Each open page makes about
# one call a minute (two when the visitor switches to the prediction), so 60 serves some 30-60 people
# watching one embed at once, while a flood from many addresses needs hours, not minutes, to use up
# the 10,000 calls of a month without add-ons. Further calls that minute get the "rate limited" image
# (429) and are not counted.
EMBED_KEY_CALLS_PER_MINUTE = env_int("EMBED_KEY_CALLS_PER_MINUTE", 60, minimum=0, maximum=1_000_000)
