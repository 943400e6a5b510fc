"""REST API of buildings and rooms (`/api/v1/`; the one-call registration is devices/api.py).

Reads are open to every role of the caller's operator, writes to admins (the default permission
class). Objects come through the selectors: another operator's id is a 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from portal.ids import parse_id

from .hooks import media_summary
from .selectors import access_building, access_room, building_list, room_list
from .serializers import BuildingSerializer, DeleteSummarySerializer, RoomSerializer, RoomUpdateSerializer
from .services import building_delete, building_delete_summary, room_delete, room_delete_summary

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

    @extend_schema(responses=DeleteSummarySerializer)
    @action(detail=True, methods=["get"], url_path="delete-summary")
    def delete_summary(self, request, building_id=None):
        """What deleting the building takes with it: rooms, devices and the recorded media (admins)."""
        building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
        summary = {**building_delete_summary(building), "media": media_summary(building=building)}
        return Response(DeleteSummarySerializer(summary).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("building", int, description="Only the rooms of this building (an id).")]
    )
)
class RoomViewSet(viewsets.ModelViewSet):
    serializer_class = RoomSerializer
    lookup_url_kwarg = "room_id"
    lookup_value_regex = ID_REGEX

    def get_serializer_class(self):
        return RoomUpdateSerializer if self.action in ("update", "partial_update") else RoomSerializer

    def get_queryset(self):
        building = self.request.query_params.get("building")
        building_id = parse_id(building)
        if building and building_id is None:
            raise serializers.ValidationError({"building": [_("Enter the id as a number.")]})
        return room_list(
            operator=self.request.operator,
            building_id=building_id,
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

    @extend_schema(responses=DeleteSummarySerializer)
    @action(detail=True, methods=["get"], url_path="delete-summary")
    def delete_summary(self, request, room_id=None):
        """What deleting the room takes with it: devices and the recorded media (admins)."""
        room = access_room(operator=request.operator, user=request.user, pk=room_id, write=True)
        summary = {**room_delete_summary(room), "media": media_summary(room=room)}
        return Response(DeleteSummarySerializer(summary).data)
