"""The OpenAPI schema (/api/schema/) and its Swagger page (/api/docs/): for logged-in users only
(a session or an API token), unless settings.API_DOCS_PUBLIC says they are public. The schema lists
every route and field of the API, which an outsider has no need to map."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny, IsAuthenticated


class SchemaView(SpectacularAPIView):
    def get_permissions(self):
        # Read per request, not at import: the setting decides, and tests can change it.
        return [AllowAny()] if settings.API_DOCS_PUBLIC else [IsAuthenticated()]


class DocsView(SpectacularSwaggerView):
    permission_classes = [AllowAny]  # a browser without a session is sent to the log-in page instead

    @extend_schema(exclude=True)  # the page itself is no API operation (as in SpectacularSwaggerView)
    def get(self, request, *args, **kwargs):
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)


TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def local_times(result, generator, request, public):
    """drf-spectacular's postprocessing hook: a time of day (DRF's TimeField, "09:00:00") is documented
    with its pattern. The OpenAPI format `time` is RFC 3339's full-time, which needs a UTC offset the
    API neither sends nor reads (business hours are local times)."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("format") == "time" and node.get("type") == "string":
                del node["format"]
                node["pattern"] = TIME_PATTERN
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
