"""The ASGI entry point: Django's HTTP views and the live view's WebSocket (recording/routing.py).

Served by daphne (`daphne portal.asgi:application`, and `manage.py runserver`, since "daphne" is the
first installed app). HTTP is the same Django as portal/wsgi.py, except the live HLS files (the exact
path of the `recording:live_media` URL), which recording/live_http.py serves without the Django stack
(same authorization, kept per token for LIVE_RECHECK_SECONDS); only /ws/ routes are sockets.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.prod")
# Django first: the routes below import models, which needs the app registry ready.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from recording.live_http import with_live_files  # noqa: E402
from recording.routing import websocket_urlpatterns  # noqa: E402


class AllowedHostsOrigin(OriginValidator):
    """A socket opened by a page of another site is refused (cross-site WebSocket hijacking: the
    browser sends this site's cookies with it). Like channels' AllowedHostsOriginValidator, but reads
    ALLOWED_HOSTS when the socket opens, not at import (tests and settings overrides change it)."""

    def __init__(self, application):
        super().__init__(application, [])

    def valid_origin(self, parsed_origin) -> bool:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        if parsed_origin is None:
            return "*" in hosts
        return any(host == "*" or self.match_allowed_origin(parsed_origin, host) for host in hosts)


def websocket_application():
    # No session or user lookup before the consumer: a live socket is authorized by its media token
    # (recording/consumers.py), and channels' AuthMiddlewareStack would spend two queries on every
    # connect in the one database thread, before the socket is even accepted.
    return AllowedHostsOrigin(URLRouter(websocket_urlpatterns))


application = ProtocolTypeRouter({"http": with_live_files(django_application), "websocket": websocket_application()})
