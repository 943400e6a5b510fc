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
    path("congestion/alert-sender/", api.AlertSenderView.as_view(), name="congestion-alert-sender"),
    path("congestion/groups/", api.GroupListView.as_view(), name="congestion-groups"),
    path("congestion/groups/<int:group_id>/", api.GroupView.as_view(), name="congestion-group"),
    path("congestion/groups/<int:group_id>/hours/", api.GroupHoursView.as_view(), name="congestion-group-hours"),
    path("congestion/groups/<int:group_id>/alert/", api.GroupAlertView.as_view(), name="congestion-group-alert"),
]
