from django.urls import path

from . import trouble_views, views

app_name = "recording"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("notifications/buildings/<int:building_id>/", views.notification_building_view, name="notification_building"),
    # Two bulk actions, as in the manual: recipients, and notification type; each changes only its field.
    path(
        "notifications/buildings/<int:building_id>/bulk/recipients/",
        views.notification_bulk_recipients_view,
        name="notification_bulk_recipients",
    ),
    path(
        "notifications/buildings/<int:building_id>/bulk/type/",
        views.notification_bulk_type_view,
        name="notification_bulk_type",
    ),
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
    # Media: live view, player, files, exports, ingest status, the sensors' motion endpoint.
    path("cameras/<int:camera_id>/live/", views.live_view, name="live"),
    path("cameras/<int:camera_id>/live/token/", views.live_token_view, name="live_token"),
    path("live/<str:media_token>/<str:filename>", views.live_media_view, name="live_media"),
    path("cameras/<int:camera_id>/snapshot.jpg", views.snapshot_view, name="snapshot"),
    path("cameras/<int:camera_id>/thumbnail.jpg", views.thumbnail_view, name="thumbnail"),
    path("cameras/<int:camera_id>/player/", views.player_view, name="player"),
    path("cameras/<int:camera_id>/motion/", views.motion_settings_view, name="motion_settings"),
    path("cameras/<int:camera_id>/settings/", views.recording_settings_view, name="recording_settings"),
    path("cameras/<int:camera_id>/motion-secret/", views.motion_secret_rotate_view, name="motion_secret_rotate"),
    path("segments/<int:segment_id>/video.mp4", views.segment_file_view, name="segment_file"),
    path("clips/<int:clip_id>/video.mp4", views.clip_file_view, name="clip_file"),
    path("exports/", views.export_list_view, name="exports"),
    # The camera comes in the form: exporting reads a camera's video (a receiver of a shared camera may
    # download it too) and writes only the user's own converted file.
    path("exports/new/", views.export_create_view, name="export_create"),
    path("exports/<int:export_id>/progress/", views.export_progress_view, name="export_progress"),
    path("exports/<int:export_id>/download/", views.export_download_view, name="export_download"),
    path("exports/<int:export_id>/delete/", views.export_delete_view, name="export_delete"),
    path("staff/ingest/", views.staff_ingest_view, name="staff_ingest"),
    path(
        "buildings/<int:building_id>/trouble-refresh/",
        trouble_views.building_trouble_refresh_view,
        name="building_trouble_refresh",
    ),
    path("devices/<int:device_id>/motion/", views.motion_endpoint_view, name="motion_endpoint"),
]
