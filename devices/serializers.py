"""API serializers of devices. Secrets (RTSP URL, ONVIF password) are write-only: responses only
say whether they are set. No serializer takes an `operator`; a room id in a body must be the caller's."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from buildings.selectors import building_list, room_list
from buildings.serializers import OperatorScopedPKField, raise_as_drf

from .models import Device, DeviceKind, StreamSource
from .registration import Registration, registration_complete
from .services import NAME_MAX, camera_register, device_rename, recorder_register


class DeviceSerializer(serializers.ModelSerializer):
    building = serializers.IntegerField(source="room.building_id", read_only=True)
    trouble_label = serializers.CharField(source="get_trouble_state_display", read_only=True)
    sensor = serializers.SerializerMethodField(help_text=_("The built-in motion sensor registered with a camera."))
    has_stream_settings = serializers.BooleanField(read_only=True)
    shared_by = serializers.SerializerMethodField(
        help_text=_("For a camera another operator shared to you: the owner's name. Null for your own devices.")
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "kind",
            "name",
            "mac",
            "room",
            "building",
            "parent",
            "channel",
            "sensor",
            "trouble_state",
            "trouble_label",
            "trouble_since",
            "trouble_checked_at",
            "stream_source",
            "has_stream_settings",
            "created_at",
            "shared_by",
        ]
        read_only_fields = fields

    # A shared camera's place and hardware are the owner's business (docs/product.md §4.2): the receiver gets none.
    OWNER_ONLY = ("mac", "room", "building", "parent", "sensor", "stream_source", "has_stream_settings")

    def get_shared_by(self, obj: Device) -> str | None:
        return getattr(obj, "shared_by", None)

    def to_representation(self, instance: Device) -> dict:
        data = super().to_representation(instance)
        if data.get("shared_by"):
            data.update(dict.fromkeys(self.OWNER_ONLY))
        return data

    def get_sensor(self, obj: Device) -> int | None:
        if obj.kind != DeviceKind.CAMERA:
            return None
        if hasattr(obj, "sensor_pk"):  # annotated by the list (devices.selectors.with_sensor)
            return obj.sensor_pk
        sensor = obj.children.filter(kind=DeviceKind.SENSOR).first()
        return sensor.pk if sensor else None


def _scoped_rooms(*, operator):
    return room_list(operator=operator)


class DeviceCreateSerializer(serializers.Serializer):
    """Registers a camera and its built-in sensor together, or an edge recorder, into one of the
    caller's rooms. A recorder's channels are added with POST /devices/{id}/channels/."""

    kind = serializers.ChoiceField(
        choices=[DeviceKind.CAMERA, DeviceKind.RECORDER], default=DeviceKind.CAMERA, required=False
    )
    room = OperatorScopedPKField(selector=_scoped_rooms)
    name = serializers.CharField(max_length=NAME_MAX + 10, help_text=_("3 to 64 characters."))
    mac = serializers.CharField(max_length=20, help_text=_("AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF"))

    def create(self, validated_data: dict) -> Device:
        register = recorder_register if validated_data.get("kind") == DeviceKind.RECORDER else camera_register
        try:
            return register(
                user=self.context["request"].user,
                room=validated_data["room"],
                name=validated_data["name"],
                mac=validated_data["mac"],
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)

    def to_representation(self, instance: Device) -> dict:
        return DeviceSerializer(instance, context=self.context).data


class DeviceRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX + 10, help_text=_("3 to 64 characters."))

    def update(self, instance: Device, validated_data: dict) -> Device:
        try:
            # PATCH {} names nothing: the name stays (through the service, which still checks the role).
            name = validated_data.get("name", instance.name)
            return device_rename(user=self.context["request"].user, device=instance, name=name)
        except DjangoValidationError as exc:
            raise_as_drf(exc)

    def to_representation(self, instance: Device) -> dict:
        return DeviceSerializer(instance, context=self.context).data


class DeviceExchangeSerializer(serializers.Serializer):
    mac = serializers.CharField(max_length=20, help_text=_("The MAC address (S/N) of the new camera."))


class DeviceTroubleCheckSerializer(serializers.Serializer):
    """The answer of "refresh trouble info" for one device: the camera was asked now."""

    device = DeviceSerializer(help_text=_("The device with its trouble state after the check."))
    checked = serializers.BooleanField(
        help_text=_("False when there was nothing to ask (no stream settings, or not a camera).")
    )
    problem = serializers.CharField(
        help_text=_('What the check found: "" (fine), network, auth, not_found, not_video, garbage or refused.')
    )
    message = serializers.CharField(help_text=_("What the check found, in words (the page shows the same)."))


class RefusalSerializer(serializers.Serializer):
    """A request refused as a whole (400), e.g. remote maintenance of a camera whose license expired or is
    missing: the reason, in words."""

    non_field_errors = serializers.ListField(child=serializers.CharField())


class StreamSettingsSerializer(serializers.Serializer):
    """Write: the settings. Read: the same without secrets, plus whether each secret is set."""

    stream_source = serializers.ChoiceField(choices=StreamSource.choices, allow_blank=True)
    rtsp_url = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        trim_whitespace=False,  # refused with a message by the outbound-connection policy, never trimmed
        help_text=_("Write-only; it may carry credentials. Blank or left out keeps the stored URL."),
    )
    onvif_host = serializers.CharField(required=False, allow_blank=True, max_length=255, trim_whitespace=False)
    onvif_port = serializers.IntegerField(required=False, allow_null=True)
    onvif_user = serializers.CharField(required=False, allow_blank=True, max_length=64)
    onvif_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=256,
        help_text=_("Write-only. Blank or left out keeps the stored password."),
    )
    rtsp_url_set = serializers.BooleanField(read_only=True)
    onvif_password_set = serializers.BooleanField(read_only=True)

    def to_representation(self, instance: Device) -> dict:
        return {
            "stream_source": instance.stream_source,
            "onvif_host": instance.onvif_host,
            "onvif_port": instance.onvif_port,
            "onvif_user": instance.onvif_user,
            "rtsp_url_set": bool(instance.rtsp_url),
            "onvif_password_set": bool(instance.onvif_password),
        }


class ChannelCreateSerializer(serializers.Serializer):
    """One channel of an edge recorder, registered as a camera (it needs a camera license)."""

    channel = serializers.IntegerField(help_text=_("The recorder's channel number, 1 to 64."))
    name = serializers.CharField(max_length=NAME_MAX + 10, help_text=_("3 to 64 characters."))


# --- the first-registration wizard in one call (devices/registration.py) ---------------------------


def _scoped_buildings(*, operator):
    return building_list(operator=operator)


class RegistrationSerializer(serializers.Serializer):
    """The whole registration wizard in one call: all or nothing."""

    contract_number = serializers.CharField(max_length=32)
    mac = serializers.CharField(max_length=20, help_text=_("AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF"))
    building = OperatorScopedPKField(
        selector=_scoped_buildings,
        required=False,
        allow_null=True,
        help_text=_("An existing building of yours; leave out to create one named building_name."),
    )
    building_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    room_name = serializers.CharField(max_length=100)
    camera_name = serializers.CharField(max_length=NAME_MAX + 10, help_text=_("3 to 64 characters."))

    def create(self, validated_data: dict):
        request = self.context["request"]
        building = validated_data.get("building")
        registration = Registration(
            contract_number=validated_data["contract_number"],
            mac=validated_data["mac"],
            building_id=building.pk if building else None,
            building_name=validated_data.get("building_name", ""),
            room_name=validated_data["room_name"],
            camera_name=validated_data["camera_name"],
        )
        try:
            return registration_complete(operator=request.operator, user=request.user, registration=registration)
        except DjangoValidationError as exc:
            raise_as_drf(exc)


class RegistrationResultSerializer(serializers.Serializer):
    building = serializers.IntegerField()
    room = serializers.IntegerField()
    camera = serializers.IntegerField()
    sensor = serializers.IntegerField(allow_null=True)
