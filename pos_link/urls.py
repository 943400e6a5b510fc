from django.urls import path

from . import views

app_name = "pos_link"

urlpatterns = [
    path("", views.dashboard_index_view, name="dashboard"),
    path("cameras/<int:camera_id>/", views.camera_dashboard_view, name="camera_dashboard"),
    path("cameras/<int:camera_id>/segment/", views.camera_segment_view, name="camera_segment"),
    path(
        "transactions/<int:transaction_id>/thumbnail.jpg",
        views.transaction_thumbnail_view,
        name="transaction_thumbnail",
    ),
    path("links/", views.links_view, name="links"),
    path("links/smaregi/add/", views.smaregi_add_view, name="smaregi_add"),
    path("links/ubiregi/add/", views.ubiregi_add_view, name="ubiregi_add"),
    path("links/delete/", views.links_delete_view, name="links_delete"),
    path("links/<int:link_id>/update/", views.link_update_view, name="link_update"),
    path("ubiregi/connect/", views.ubiregi_connect_view, name="ubiregi_connect"),
    path("ubiregi/callback/", views.ubiregi_callback_view, name="ubiregi_callback"),
    path("webhooks/smaregi/<int:connection_id>/<str:secret>/", views.webhook_view, name="webhook"),
]
