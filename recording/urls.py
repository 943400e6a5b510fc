from django.urls import path

from . import views

app_name = "recording"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("notifications/buildings/<int:building_id>/", views.notification_building_view, name="notification_building"),
    path("notifications/buildings/<int:building_id>/bulk/", views.notification_bulk_view, name="notification_bulk"),
    path("notifications/rooms/<int:room_id>/", views.notification_room_view, name="notification_room"),
    path("cameras/<int:camera_id>/conditions/", views.conditions_view, name="conditions"),
    path("cameras/<int:camera_id>/conditions/add/", views.condition_add_view, name="condition_add"),
    path("cameras/<int:camera_id>/conditions/delete/", views.conditions_delete_all_view, name="conditions_delete_all"),
    path(
        "cameras/<int:camera_id>/conditions/<int:sensor_id>/delete/",
        views.condition_delete_view,
        name="condition_delete",
    ),
    path("clips/download/", views.clip_download_view, name="clip_download"),
    path("staff/mails/", views.staff_mails_view, name="staff_mails"),
]
