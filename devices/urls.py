from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("add/", views.device_add_select_view, name="add_select"),
    path("rooms/<int:room_id>/add/", views.device_add_view, name="add"),
    path("<int:device_id>/", views.device_detail_view, name="detail"),
    path("<int:device_id>/trouble/refresh/", views.trouble_refresh_view, name="trouble_refresh"),
    path("<int:device_id>/rename/", views.device_rename_view, name="rename"),
    path("<int:device_id>/delete/", views.device_delete_view, name="delete"),
    path("<int:device_id>/exchange/", views.device_exchange_view, name="exchange"),
    path("<int:device_id>/stream/", views.device_stream_view, name="stream"),
    path("<int:device_id>/channels/add/", views.channel_add_view, name="channel_add"),
]
