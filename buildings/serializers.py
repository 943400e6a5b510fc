"""API serializers of buildings and rooms (the one-call registration is devices').

None of them has an `operator` field: the operator is always the caller's. Ids of related objects
in a request body go through `OperatorScopedPKField`, so another operator's id is "not found" (400),
never a link across tenants. Writes go through the services; their field-keyed ValidationErrors
come back as 400 with the translated message per field (`raise_as_drf`).
"""

from collections.abc import Collection
from typing import NoReturn

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
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


def is_conflict(exc: DjangoValidationError, conflicts: Collection[str] = ()) -> bool:
    """Whether every refusal in `exc` is a state conflict: its code ends in `_taken` (a contract number,
    a name, a MAC … already registered) or is one of the caller's `conflicts` (refused by what is stored,
    e.g. how the camera is set up). No schema can say that, so the API answers 409 for these, and 400 where
    any other refusal is among them."""
    errors = [e for errors in exc.error_dict.values() for e in errors] if hasattr(exc, "error_dict") else exc.error_list
    return bool(errors) and all(str(e.code or "").endswith("_taken") or e.code in conflicts for e in errors)


def raise_as_drf(
    exc: DjangoValidationError,
    default_field: str = api_settings.NON_FIELD_ERRORS_KEY,
    *,
    conflicts: Collection[str] = (),
) -> NoReturn:
    """Re-raise a service's ValidationError as DRF's, keeping the field each message belongs to: a 400, or
    a 409 `Conflict` with the same body when every refusal is a state conflict (`is_conflict`)."""
    if hasattr(exc, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {default_field: exc.messages}
    if is_conflict(exc, conflicts):
        raise Conflict(detail) from exc
    raise serializers.ValidationError(detail) from exc


class Documented:
    """A field whose request schema says what its service checks with its own message (so DRF does not
    check it first with another message): `schema` adds keywords (a pattern, the length after stripping, a
    range; a callable value is read when the schema is made) to what drf-spectacular derives from the field.
    Responses are documented as the plain field."""

    def __init__(self, *args, schema: dict, **kwargs) -> None:
        self.schema = schema
        super().__init__(*args, **kwargs)


class TextField(Documented, serializers.CharField):
    pass


class IntegerField(Documented, serializers.IntegerField):
    pass


class DecimalField(Documented, serializers.DecimalField):
    pass


class ListField(Documented, serializers.ListField):
    pass


class DocumentedSchema(OpenApiSerializerFieldExtension):
    target_class = Documented
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request":
            return schema
        # drf-spectacular then lays the field's own meta over it (description, nullable, minLength 1 of a
        # non-blank text): say those with the field's kwargs, not here.
        return {**schema, **{key: value() if callable(value) else value for key, value in self.target.schema.items()}}


# DRF strips a text field and refuses one left blank: a name must hold something besides spaces.
NOT_ONLY_SPACES = r"\S"


def name_field(max_length: int = 100, **kwargs) -> TextField:
    """A building or room name: 1 to `max_length` characters, not only spaces (buildings.services.clean_name)."""
    return TextField(max_length=max_length, schema={"pattern": NOT_ONLY_SPACES}, **kwargs)


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
    name = name_field()
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


CONTRACT_NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,32}$"  # buildings.services.clean_contract_number


class RoomSerializer(serializers.ModelSerializer):
    building = OperatorScopedPKField(selector=_scoped_buildings)
    name = name_field()
    contract_number = TextField(
        max_length=32,
        schema={"pattern": CONTRACT_NUMBER_PATTERN},
        help_text=_("Given at installation: letters, digits and '-', up to 32. Unique in your operator."),
    )
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
        # The contract number and the building are fixed at registration (read-only in RoomUpdateSerializer,
        # which PUT and PATCH use): one sent with another value than the stored one is refused.
        sent = getattr(self, "initial_data", {})
        for field, stored in (("building", instance.building_id), ("contract_number", instance.contract_number)):
            if field in sent and str(sent[field]).strip() != str(stored):
                raise serializers.ValidationError({field: [_("This cannot be changed after registration.")]})
        try:
            return room_rename(
                user=self.context["request"].user, room=instance, name=validated_data.get("name", instance.name)
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)


class RoomUpdateSerializer(RoomSerializer):
    """PUT/PATCH: only the name changes. The building and the contract number are fixed at registration
    (moving means registering again), so they are read-only here; a request that sends another value than
    the stored one is refused (`RoomSerializer.update`), one that sends the same is accepted."""

    building = serializers.IntegerField(source="building_id", read_only=True)
    contract_number = serializers.CharField(read_only=True)


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
