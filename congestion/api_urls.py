from django.urls import path

from . import api

CAMERA = "congestion/cameras/<int:congestion_camera_id>/"
urlpatterns = [
    path("congestion/cameras/", api.CongestionCameraListView.as_view(), name="congestion-cameras"),
    path(CAMERA, api.CongestionCameraView.as_view(), name="congestion-camera"),
    path(CAMERA + "count/", api.CongestionCountView.as_view(), name="congestion-camera-count"),
    path(CAMERA + "alert/", api.CameraAlertView.as_view(), name="congestion-camera-alert"),
    path(CAMERA + "hours/", api.HoursListView.as_view(), name="congestion-camera-hours"),
    path(CAMERA + "hours/calendar/", api.HoursCalendarView.as_view(), name="congestion-camera-hours-calendar"),
    path(CAMERA + "hours/<int:hours_rule_id>/", api.HoursRuleView.as_view(), name="congestion-camera-hours-rule"),
    path(CAMERA + "background/", api.BackgroundView.as_view(), name="congestion-camera-background"),
    path(CAMERA + "offhours-image/", api.OffhoursImageView.as_view(), name="congestion-camera-offhours-image"),
    path(CAMERA + "alert/image/", api.CameraAlertImageView.as_view(), name="congestion-camera-alert-image"),
    path(CAMERA + "prediction/", api.PredictionView.as_view(), name="congestion-camera-prediction"),
    path(CAMERA + "history/", api.HistoryView.as_view(), name="congestion-camera-history"),
    path(CAMERA + "csv/", api.CameraCsvView.as_view(), name="congestion-camera-csv"),
    path("congestion/csv/", api.CsvAllView.as_view(), name="congestion-csv"),
    path(
        "congestion/groups/<int:group_id>/alert/image/",
        api.GroupAlertImageView.as_view(),
        name="congestion-group-alert-image",
    ),
    path(
        "congestion/groups/<int:group_id>/prediction/",
        api.GroupPredictionView.as_view(),
        name="congestion-group-prediction",
    ),
    path("congestion/groups/<int:group_id>/history/", api.GroupHistoryView.as_view(), name="congestion-group-history"),
    path("congestion/groups/<int:group_id>/csv/", api.GroupCsvView.as_view(), name="congestion-group-csv"),
    path("congestion/getting-started/", api.GettingStartedView.as_view(), name="congestion-getting-started"),
    path("congestion/alert-sender/", api.AlertSenderView.as_view(), name="congestion-alert-sender"),
    path("congestion/groups/", api.GroupListView.as_view(), name="congestion-groups"),
    path("congestion/groups/<int:group_id>/", api.GroupView.as_view(), name="congestion-group"),
    path("congestion/groups/<int:group_id>/hours/", api.GroupHoursView.as_view(), name="congestion-group-hours"),
    path("congestion/groups/<int:group_id>/alert/", api.GroupAlertView.as_view(), name="congestion-group-alert"),
]
