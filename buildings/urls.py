from django.urls import path

from . import views

app_name = "buildings"

urlpatterns = [
    path("", views.building_list_view, name="list"),
    path("register/", views.register_start_view, name="register"),
    path("register/building/", views.register_building_view, name="register_building"),
    path("register/room/", views.register_room_view, name="register_room"),
    path("register/confirm/", views.register_confirm_view, name="register_confirm"),
    path("<int:building_id>/", views.building_detail_view, name="detail"),
    path("<int:building_id>/rename/", views.building_rename_view, name="rename"),
    path("<int:building_id>/delete/", views.building_delete_view, name="delete"),
    path("rooms/<int:room_id>/", views.room_detail_view, name="room_detail"),
    path("rooms/<int:room_id>/rename/", views.room_rename_view, name="room_rename"),
    path("rooms/<int:room_id>/delete/", views.room_delete_view, name="room_delete"),
]
