"""API serializers of buildings and rooms (the one-call registration is devices').

None of them has an `operator` field: the operator is always the caller's. Ids of related objects
in a request body go through `OperatorScopedPKField`, so another operator's id is "not found" (400),
never a link across tenants. Writes go through the services; their field-keyed ValidationErrors
come back as 400 with the translated message per field (`raise_as_drf`).
"""

from typing import NoReturn

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings

from .models import Building, Room
from .selectors import building_list
from .services import building_create, building_rename, room_create, room_rename


class Conflict(APIException):
    """409: the request is well formed, but what is stored refuses it (a name or number already taken)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with what is already registered.")
    default_code = "conflict"


def is_conflict(exc: DjangoValidationError) -> bool:
    """Whether every refusal in `exc` is a state conflict: its code ends in `_taken` (a contract number,
    a name, a MAC … already registered). No schema can say that a value is free, so the API answers 409
    for these, and 400 where any other refusal is among them."""
    errors = [e for errors in exc.error_dict.values() for e in errors] if hasattr(exc, "error_dict") else exc.error_list
    return bool(errors) and all(str(e.code or "").endswith("_taken") for e in errors)


def raise_as_drf(exc: DjangoValidationError, default_field: str = api_settings.NON_FIELD_ERRORS_KEY) -> NoReturn:
    """Re-raise a service's ValidationError as DRF's, keeping the field each message belongs to: a 400, or
    a 409 `Conflict` with the same body when every refusal is a state conflict (`is_conflict`)."""
    if hasattr(exc, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {default_field: exc.messages}
    if is_conflict(exc):
        raise Conflict(detail) from exc
    raise serializers.ValidationError(detail) from exc


@extend_schema_field(OpenApiTypes.INT)
class OperatorScopedPKField(serializers.PrimaryKeyRelatedField):
    """A primary key that only resolves inside the caller's operator, through a selector."""

    default_error_messages = {
        "does_not_exist": _('Not found: there is no object with id "{pk_value}".'),
        "incorrect_type": _("Enter the id as a number."),
    }

    def __init__(self, *, selector, **kwargs) -> None:
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(operator=self.context["request"].operator)


def _count(obj, annotation: str, fallback) -> int:
    # List endpoints annotate the counts in one query; a freshly saved object counts itself.
    value = getattr(obj, annotation, None)
    return fallback() if value is None else value


class BuildingSerializer(serializers.ModelSerializer):
    room_count = serializers.SerializerMethodField()

    class Meta:
        model = Building
        fields = ["id", "name", "room_count", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # uniqueness is the service's check, with its own message

    def get_room_count(self, obj: Building) -> int:
        return _count(obj, "room_count", lambda: obj.rooms.count())

    def create(self, validated_data: dict) -> Building:
        request = self.context["request"]
        try:
            return building_create(user=request.user, operator=request.operator, name=validated_data["name"])
        except DjangoValidationError as exc:
            raise_as_drf(exc)

    def update(self, instance: Building, validated_data: dict) -> Building:
        try:
            return building_rename(
                user=self.context["request"].user, building=instance, name=validated_data.get("name", instance.name)
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)


def _scoped_buildings(*, operator):
    return building_list(operator=operator)


class RoomSerializer(serializers.ModelSerializer):
    building = OperatorScopedPKField(selector=_scoped_buildings)
    camera_count = serializers.SerializerMethodField()
    sensor_count = serializers.SerializerMethodField()
    trouble_count = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = [
            "id",
            "building",
            "name",
            "contract_number",
            "camera_count",
            "sensor_count",
            "trouble_count",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators: list = []

    def get_camera_count(self, obj: Room) -> int:
        return _count(obj, "camera_count", lambda: obj.devices.filter(kind="camera").count())

    def get_sensor_count(self, obj: Room) -> int:
        return _count(obj, "sensor_count", lambda: obj.devices.filter(kind="sensor").count())

    def get_trouble_count(self, obj: Room) -> int:
        return _count(obj, "trouble_count", lambda: obj.devices.exclude(trouble_state="").count())

    def create(self, validated_data: dict) -> Room:
        try:
            return room_create(
                user=self.context["request"].user,
                building=validated_data["building"],
                name=validated_data["name"],
                contract_number=validated_data["contract_number"],
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)

    def update(self, instance: Room, validated_data: dict) -> Room:
        # The contract number and the building are fixed at registration; moving means register again.
        for field in ("building", "contract_number"):
            if field in validated_data and validated_data[field] != getattr(instance, field):
                raise serializers.ValidationError({field: [_("This cannot be changed after registration.")]})
        try:
            return room_rename(
                user=self.context["request"].user, room=instance, name=validated_data.get("name", instance.name)
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)


class DeletedMediaSerializer(serializers.Serializer):
    recordings = serializers.IntegerField(help_text=_("Continuous-recording files (about 1 minute each)."))
    clips = serializers.IntegerField(help_text=_("Event clips."))
    exports = serializers.IntegerField(help_text=_("Converted files (exports) of every user."))
    bytes = serializers.IntegerField()
    gb = serializers.FloatField()
    oldest = serializers.DateTimeField(allow_null=True)


class DeleteSummarySerializer(serializers.Serializer):
    """What a DELETE would take with it (docs/product.md §2.3), asked before deleting."""

    rooms = serializers.IntegerField(required=False)
    cameras = serializers.IntegerField()
    sensors = serializers.IntegerField()
    media = DeletedMediaSerializer(allow_null=True)
