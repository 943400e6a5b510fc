from django.urls import path

from . import api, trouble_api

urlpatterns = [
    path(
        "rooms/<int:room_id>/notification-setting/",
        api.RoomNotificationSettingView.as_view(),
        name="room-notification-setting",
    ),
    path(
        "buildings/<int:building_id>/notification-settings/",
        api.BuildingNotificationSettingsView.as_view(),
        name="building-notification-settings",
    ),
    path(
        "buildings/<int:building_id>/notification-settings/recipients/",
        api.BuildingBulkRecipientsView.as_view(),
        name="building-notification-recipients",
    ),
    path(
        "buildings/<int:building_id>/notification-settings/type/",
        api.BuildingBulkTypeView.as_view(),
        name="building-notification-type",
    ),
    path(
        "cameras/<int:camera_id>/recording-conditions/",
        api.CameraConditionsView.as_view(),
        name="camera-recording-conditions",
    ),
    path(
        "cameras/<int:camera_id>/recording-conditions/<int:sensor_id>/",
        api.CameraConditionView.as_view(),
        name="camera-recording-condition",
    ),
    path(
        "cameras/<int:camera_id>/motion-settings/",
        api.CameraMotionSettingsView.as_view(),
        name="camera-motion-settings",
    ),
    path(
        "cameras/<int:camera_id>/recording-settings/",
        api.CameraRecordingSettingsView.as_view(),
        name="camera-recording-settings",
    ),
    path("cameras/<int:camera_id>/motion-secret/", api.CameraMotionSecretView.as_view(), name="camera-motion-secret"),
    path(
        "buildings/<int:building_id>/trouble-refresh/",
        trouble_api.BuildingTroubleRefreshView.as_view(),
        name="building-trouble-refresh",
    ),
]
