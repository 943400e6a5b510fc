"""The client's address behind a trusted reverse proxy (portal/client_ip.py reads it)."""

from django.core.exceptions import ImproperlyConfigured

from .env import env

# Behind a reverse proxy, the request.META key of the header it sets with the client's address
# (e.g. HTTP_X_REAL_IP or HTTP_X_FORWARDED_FOR); empty = REMOTE_ADDR (no proxy). Set it only when a
# proxy you run always sets that header: otherwise a client could name any address, and the login
# history, risk-based two-step verification and the embed rate limit would believe it.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
if CLIENT_IP_HEADER and not CLIENT_IP_HEADER.startswith("HTTP_"):
    raise ImproperlyConfigured(
        f"CLIENT_IP_HEADER must be a request.META header key such as HTTP_X_REAL_IP, got {CLIENT_IP_HEADER!r}"
    )
