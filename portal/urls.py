from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from buildings.urls import urlpatterns as buildings_patterns
from devices.building_urls import urlpatterns as devices_building_patterns
from embeds.urls import public_patterns as embed_public_patterns
from tenants import views as tenants_views

from . import views
from .api_docs import DocsView, SchemaView

api_v1 = [
    path("", include("tenants.api_urls")),
    path("", include("buildings.api_urls")),
    path("", include("devices.api_urls")),
    path("", include("sharing.api_urls")),
    path("", include("licensing.api_urls")),
    path("", include("recording.api_urls")),
    path("", include("pos_link.api_urls")),
    path("", include("congestion.api_urls")),
    path("", include("embeds.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("contact/", views.contact, name="contact"),
    path("api/v1/site-info/", views.site_info_api, name="site-info"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("tenants.urls")),
    # One `buildings:` namespace: buildings' pages, and devices' wizard and room page (buildings sits
    # under devices in the layering, so it cannot route to devices' views itself).
    path("buildings/", include((buildings_patterns + devices_building_patterns, "buildings"))),
    path("devices/", include("devices.urls")),
    path("sharing/", include("sharing.urls")),
    path("licensing/", include("licensing.urls")),
    path("recording/", include("recording.urls")),
    path("pos/", include("pos_link.urls")),
    path("congestion/", include("congestion.urls")),
    path("congestion/", include("embeds.urls")),  # embed pages of congestion cameras and groups
    path("", include(embed_public_patterns)),  # e/<key>/ and s/<key>/: public, framable
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),  # logged-in users unless API_DOCS_PUBLIC
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # Staff log in (and change passwords) through the portal's own pages: lock, two-step, history.
    path("staff/admin/login/", tenants_views.staff_admin_login_view, name="staff_admin_login"),
    path("staff/admin/password_change/", RedirectView.as_view(pattern_name="tenants:password_change")),
    path("staff/admin/", admin.site.urls),
]
