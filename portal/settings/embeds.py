"""Public congestion embeds: the per-address allowance and the per-key budget that protect an operator's
monthly call quota (embeds/quota.py, docs/product.md §6.11). Both are token buckets: refilled evenly over
the minute, with bursts."""

from .env import env_int

# Image / prediction calls per minute one client address (IPv4, IPv6 /64) may make for one camera shown
# (a camera or group embed, or one camera of a generated site: a site of 4 cameras allows 4 × this);
# a full minute's worth may come at once. An open page makes one call per camera a minute (two when
# the visitor switches to the prediction), so 60 serves 30-60 visitors behind one office or mobile
# NAT, while a client hammering is held to 60 calls a minute per camera; 0 = no limit.
EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = env_int("EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE", 60, minimum=0, maximum=1_000_000)

# Image / prediction calls one public embed (a camera or group key, or one camera of a generated site)
# may receive per minute from all clients together, sustained, and the burst it may take at once
# (EMBED_KEY_BURST; 0 = the same as the per-minute budget). Twice the per-address allowance, so one
# hammering address leaves room for everyone else; 120 a minute serves 60-120 people watching one
# embed. A flood from many addresses at the full budget needs about 80 minutes, not seconds, to use up
# the 10,000 calls of a month without add-ons (the login notice warns below 5,000 left). Further calls
# get the "rate limited" image (429) and are not counted; 0 = no ceiling.
EMBED_KEY_CALLS_PER_MINUTE = env_int("EMBED_KEY_CALLS_PER_MINUTE", 120, minimum=0, maximum=1_000_000)
EMBED_KEY_BURST = env_int("EMBED_KEY_BURST", 240, minimum=0, maximum=1_000_000)

# How old a camera's latest analysis may be and still count as current, in minutes: older, a public
# embed shows "no current data" (no count, no status) and a group's count and alerts leave the camera
# out (congestion.selectors.stale_after). Analysis runs every minute, so 5 allows a few missed minutes.
CONGESTION_STALE_MINUTES = env_int("CONGESTION_STALE_MINUTES", 5, minimum=1, maximum=1440)
