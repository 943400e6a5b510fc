"""The pages of buildings. portal/urls.py mounts them in the `buildings` namespace together with
devices/building_urls.py (the registration wizard and the room page)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.building_list_view, name="list"),
    path("<int:building_id>/", views.building_detail_view, name="detail"),
    path("<int:building_id>/rename/", views.building_rename_view, name="rename"),
    path("<int:building_id>/delete/", views.building_delete_view, name="delete"),
    path("rooms/<int:room_id>/rename/", views.room_rename_view, name="room_rename"),
    path("rooms/<int:room_id>/delete/", views.room_delete_view, name="room_delete"),
]
