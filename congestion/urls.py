from django.urls import path

from . import views

app_name = "congestion"

CAMERA = "cameras/<int:congestion_camera_id>/"
urlpatterns = [
    path("", views.index_view, name="index"),
    path("cameras/add/", views.camera_add_view, name="camera_add"),
    path("csv/", views.csv_all_view, name="csv_all"),
    path("alert-sender/", views.alert_sender_view, name="alert_sender"),
    path(CAMERA, views.camera_detail_view, name="camera_detail"),
    path(CAMERA + "image.jpg", views.camera_image_view, name="camera_image"),
    path(CAMERA + "settings/", views.camera_settings_view, name="camera_settings"),
    path(CAMERA + "background/", views.camera_background_view, name="camera_background"),
    path(CAMERA + "background.jpg", views.camera_background_image_view, name="camera_background_image"),
    path(CAMERA + "monitoring/", views.camera_monitoring_view, name="camera_monitoring"),
    path(CAMERA + "monitoring.jpg", views.camera_monitoring_frame_view, name="camera_monitoring_frame"),
    path(CAMERA + "remove/", views.camera_remove_view, name="camera_remove"),
    path(CAMERA + "alerts/", views.camera_alerts_view, name="camera_alerts"),
    path(CAMERA + "hours/", views.camera_hours_view, name="camera_hours"),
    path(CAMERA + "hours/<int:hours_rule_id>/edit/", views.hours_rule_edit_view, name="hours_rule_edit"),
    path(CAMERA + "hours/<int:hours_rule_id>/delete/", views.hours_rule_delete_view, name="hours_rule_delete"),
    path(CAMERA + "offhours.jpg", views.camera_offhours_image_view, name="camera_offhours_image"),
    path(CAMERA + "prediction/", views.camera_prediction_view, name="camera_prediction"),
    path(CAMERA + "history/", views.camera_history_view, name="camera_history"),
    path(CAMERA + "csv/", views.camera_csv_view, name="camera_csv"),
    path("groups/", views.group_list_view, name="group_list"),
    path("groups/add/", views.group_add_view, name="group_add"),
    path("groups/<int:group_id>/", views.group_detail_view, name="group_detail"),
    path("groups/<int:group_id>/image.jpg", views.group_image_view, name="group_image"),
    path("groups/<int:group_id>/edit/", views.group_edit_view, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete_view, name="group_delete"),
    path("groups/<int:group_id>/alerts/", views.group_alerts_view, name="group_alerts"),
    path("groups/<int:group_id>/prediction/", views.group_prediction_view, name="group_prediction"),
    path("groups/<int:group_id>/history/", views.group_history_view, name="group_history"),
    path("groups/<int:group_id>/csv/", views.group_csv_view, name="group_csv"),
    path("groups/<int:group_id>/hours/", views.group_hours_view, name="group_hours"),
    path(
        "groups/<int:group_id>/hours/<int:hours_rule_id>/edit/",
        views.group_hours_rule_edit_view,
        name="group_hours_rule_edit",
    ),
    path(
        "groups/<int:group_id>/hours/<int:hours_rule_id>/delete/",
        views.group_hours_rule_delete_view,
        name="group_hours_rule_delete",
    ),
]
