"""Embed settings and generated sites in the REST API, under the congestion camera / group they belong to.

Included by portal/urls.py under `api/v1/`; the paths and names are those the API has always had.
"""

from django.urls import path

from . import api

CAMERA = "congestion/cameras/<int:congestion_camera_id>/"
GROUP = "congestion/groups/<int:group_id>/"
urlpatterns = [
    path(CAMERA + "embed/", api.CameraEmbedView.as_view(), name="congestion-camera-embed"),
    path(GROUP + "embed/", api.GroupEmbedView.as_view(), name="congestion-group-embed"),
    path(CAMERA + "embed/rotate/", api.CameraEmbedRotateView.as_view(), name="congestion-camera-embed-rotate"),
    path(GROUP + "embed/rotate/", api.GroupEmbedRotateView.as_view(), name="congestion-group-embed-rotate"),
    path(CAMERA + "embed/snippet/", api.CameraEmbedSnippetView.as_view(), name="congestion-camera-embed-snippet"),
    path(GROUP + "embed/snippet/", api.GroupEmbedSnippetView.as_view(), name="congestion-group-embed-snippet"),
    path(GROUP + "site/", api.GroupSiteView.as_view(), name="congestion-group-site"),
]
