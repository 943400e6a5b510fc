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
