"""Embed URLs: the admin pages (under congestion/) and the public pages (e/ and s/).

`urlpatterns` are included by portal/urls.py under "congestion/" with the "embeds" namespace;
`public_patterns` at the root with the "embed_public" namespace.
"""

from django.urls import path

from . import views

app_name = "embeds"

urlpatterns = [
    path("cameras/<int:congestion_camera_id>/embed/", views.camera_embed_view, name="camera_embed"),
    path("groups/<int:group_id>/embed/", views.group_embed_view, name="group_embed"),
    path(
        "cameras/<int:congestion_camera_id>/embed/new-url/", views.camera_embed_rotate_view, name="camera_embed_rotate"
    ),
    path("groups/<int:group_id>/embed/new-url/", views.group_embed_rotate_view, name="group_embed_rotate"),
    path("groups/<int:group_id>/site/", views.group_site_view, name="group_site"),
    path("embed-notice/", views.notice_dismiss_view, name="notice_dismiss"),
]

public_patterns = (
    [
        path("e/<str:embed_key>/", views.public_embed_view, name="page"),
        path("e/<str:embed_key>/image", views.public_image_view, name="image"),
        path("e/<str:embed_key>/prediction", views.public_prediction_view, name="prediction"),
        path("s/<str:site_key>/", views.public_site_view, name="site"),
        path("s/<str:site_key>/<int:camera_index>/image", views.public_site_image_view, name="site_image"),
        path(
            "s/<str:site_key>/<int:camera_index>/prediction", views.public_site_prediction_view, name="site_prediction"
        ),
    ],
    "embed_public",
)
