"""The pages of devices that live under /buildings/ with `buildings:` names: the registration wizard
(a room and its camera registered in one flow) and the room page (a room's devices). portal/urls.py
mounts them together with buildings/urls.py in the one `buildings` namespace, so buildings, below
devices in the layering, imports no view of devices."""

from django.urls import path

from . import views

urlpatterns = [
    path("register/", views.register_start_view, name="register"),
    path("register/building/", views.register_building_view, name="register_building"),
    path("register/room/", views.register_room_view, name="register_room"),
    path("register/confirm/", views.register_confirm_view, name="register_confirm"),
    path("rooms/<int:room_id>/", views.room_detail_view, name="room_detail"),
]
