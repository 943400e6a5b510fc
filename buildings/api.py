"""REST API of buildings and rooms (`/api/v1/`; the one-call registration is devices/api.py).

Reads are open to every role of the caller's operator, writes to admins (the default permission
class). Objects come through the selectors: another operator's id is a 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import SAFE_METHODS

from .selectors import access_building, access_room, building_list, room_list
from .serializers import BuildingSerializer, RoomSerializer
from .services import building_delete, room_delete

ID_REGEX = "[0-9]+"


class BuildingViewSet(viewsets.ModelViewSet):
    serializer_class = BuildingSerializer
    lookup_url_kwarg = "building_id"
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return building_list(operator=self.request.operator, user=self.request.user)

    def get_object(self):
        return access_building(
            operator=self.request.operator,
            user=self.request.user,
            pk=self.kwargs[self.lookup_url_kwarg],
            write=self.request.method not in SAFE_METHODS,
        )

    def perform_destroy(self, instance) -> None:
        building_delete(user=self.request.user, building=instance)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("building", int, description="Only the rooms of this building (an id).")]
    )
)
class RoomViewSet(viewsets.ModelViewSet):
    serializer_class = RoomSerializer
    lookup_url_kwarg = "room_id"
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        building_id = self.request.query_params.get("building")
        if building_id is not None and not building_id.isdigit():
            raise serializers.ValidationError({"building": [_("Enter the id as a number.")]})
        return room_list(
            operator=self.request.operator,
            building_id=int(building_id) if building_id else None,
            user=self.request.user,
        )

    def get_object(self):
        return access_room(
            operator=self.request.operator,
            user=self.request.user,
            pk=self.kwargs[self.lookup_url_kwarg],
            write=self.request.method not in SAFE_METHODS,
        )

    def perform_destroy(self, instance) -> None:
        room_delete(user=self.request.user, room=instance)
