"""Outbound connections on a tenant's word (workers/netpolicy.py; docs/deployment.md "Outbound connections").

CAMERA_ALLOWED_NETWORKS: comma-separated CIDRs the portal may connect to besides public addresses, for
cameras, ONVIF devices and snapshot URLs. Empty (the default, production): public addresses only. A
customer whose cameras sit on a VPN or a site-to-site link names that network (e.g. 10.20.0.0/16);
the tests and the demo name loopback (127.0.0.0/8,::1/128) for their simulated cameras.
"""

from django.core.exceptions import ImproperlyConfigured

from workers.netpolicy import Policy

from .env import env

CAMERA_ALLOWED_NETWORKS = [n.strip() for n in env.str("CAMERA_ALLOWED_NETWORKS", default="").split(",") if n.strip()]
try:
    Policy.from_cidrs(CAMERA_ALLOWED_NETWORKS)
except ValueError as exc:
    raise ImproperlyConfigured(f"CAMERA_ALLOWED_NETWORKS: {exc}") from None
