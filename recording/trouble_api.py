"""API of "refresh trouble info" for a whole building: POST starts a run (202), GET shows the latest."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from buildings.selectors import access_building
from buildings.serializers import raise_as_drf

from . import trouble
from .models import TroubleRefresh


class SkippedCameraSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(choices=["license_expired", "license_missing"])
    message = serializers.CharField(help_text='e.g. "maintenance stopped: license expired"')


class TroubleRefreshSerializer(serializers.ModelSerializer):
    skipped = serializers.SerializerMethodField(
        help_text="Cameras not asked because their license expired or is missing (remote maintenance is "
        "stopped); they count in done, not in troubles."
    )

    class Meta:
        model = TroubleRefresh
        fields = ["id", "state", "total", "done", "troubles", "skipped", "created_at", "finished_at"]
        read_only_fields = fields

    @extend_schema_field(SkippedCameraSerializer(many=True))
    def get_skipped(self, obj: TroubleRefresh) -> list[dict]:
        return [{**entry, "message": trouble.skipped_reason(entry.get("reason", ""))} for entry in obj.skipped]


class BuildingTroubleRefreshView(GenericAPIView):
    """Refresh the trouble info of every camera of a building (every role of the owner)."""

    serializer_class = TroubleRefreshSerializer
    pagination_class = None
    any_role_may_write = True  # as on the page: it only asks the cameras (and mails what it finds)

    def _building(self):
        return access_building(operator=self.request.operator, user=self.request.user, pk=self.kwargs["building_id"])

    @extend_schema(responses={200: TroubleRefreshSerializer, 204: None})
    def get(self, request: Request, building_id: str) -> Response:
        run = trouble.latest_building_refresh(operator=request.operator, building=self._building())
        if run is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TroubleRefreshSerializer(run).data)

    @extend_schema(request=None, responses={202: TroubleRefreshSerializer})
    def post(self, request: Request, building_id: str) -> Response:
        building = self._building()
        try:
            run = trouble.building_trouble_refresh_start(
                user=request.user, operator=request.operator, building=building
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(TroubleRefreshSerializer(run).data, status=status.HTTP_202_ACCEPTED)
