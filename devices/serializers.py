"""API serializers of devices. Secrets (RTSP URL, ONVIF password) are write-only: responses only
say whether they are set. No serializer takes an `operator`; a room id in a body must be the caller's."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from buildings.selectors import building_list, room_list
from buildings.serializers import (
    CONTRACT_NUMBER_PATTERN,
    NOT_ONLY_SPACES,
    IntegerField,
    OperatorScopedPKField,
    TextField,
    name_field,
    raise_as_drf,
)
from tenants.serializers import RequestAnyOf

from .models import Device, DeviceKind, StreamSource
from .registration import Registration, registration_complete
from .services import NAME_MAX, NAME_MIN, camera_register, device_rename, recorder_register

# What the services check with their own message, said in the request schema (buildings.serializers.TextField).
# A device name: 3 to 64 characters once stripped (devices.services.validate_device_name); DRF lets up to
# NAME_MAX + 10 through so that the service's message, not DRF's, answers a long one.
DEVICE_NAME_SCHEMA = {"maxLength": NAME_MAX, "pattern": rf"\S[\s\S]{{{NAME_MIN - 2},}}\S"}
# devices.services.normalize_mac's three shapes.
MAC_SCHEMA = {
    "pattern": r"^([0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{12})$",
}


# A camera's address as the outbound-connection policy takes it (devices/outbound.py, workers/netpolicy.py):
# a host name (no space, control or non-ASCII character; its last label starts with a letter). An IP address
# is taken too where the policy allows it (a public one, or one in CAMERA_ALLOWED_NETWORKS): which is the
# deployment's, so the pattern leaves addresses out and the description says so.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,59}[A-Za-z0-9])?"
HOST_PATTERN = rf"({_LABEL}\.){{0,3}}[A-Za-z]([A-Za-z0-9-]{{0,59}}[A-Za-z0-9])?"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_USERINFO = r"[A-Za-z0-9._~!$&'()*+,;=-]+(:[A-Za-z0-9._~!$&'()*+,;=-]*)?@"
# rtsp:// or rtsps://, [user[:password]@]host[:port][/path?query] without '#' or a space; blank keeps the stored one.
_PATH = '(/[!-"$-~]*)?'  # printable ASCII but '#'
STREAM_URL_SCHEMA = {"pattern": rf"^(rtsps?://({_USERINFO})?{HOST_PATTERN}(:{_PORT})?{_PATH})?$"}
ONVIF_HOST_SCHEMA = {"pattern": rf"^({HOST_PATTERN})?$"}
ADDRESS_NOTE = _(
    "An IP address instead of the host name is accepted where the portal's network policy allows it: a public "
    "address, or one in the portal's allowed camera networks."
)

# licensing.selectors' refusals of a new camera for want of a free license (devices.hooks.camera_allowed).
LICENSE_CONFLICTS = frozenset({"no_license", "camera_direct_limit", "recorder_needs_edge_storage"})


def device_name_field(**kwargs) -> TextField:
    return TextField(max_length=NAME_MAX + 10, schema=DEVICE_NAME_SCHEMA, help_text=_("3 to 64 characters."), **kwargs)


def mac_field(**kwargs) -> TextField:
    return TextField(max_length=20, schema=MAC_SCHEMA, **kwargs)


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
    name = device_name_field()
    mac = mac_field(help_text=_("AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF"))

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
            # No free license is a refusal by what the operator holds, not by the request: a 409 (as a taken MAC).
            raise_as_drf(exc, conflicts=LICENSE_CONFLICTS)

    def to_representation(self, instance: Device) -> dict:
        return DeviceSerializer(instance, context=self.context).data


class DeviceRenameSerializer(serializers.Serializer):
    name = device_name_field()

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
    mac = mac_field(help_text=_("The MAC address (S/N) of the new camera."))


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


def _only(*values) -> dict:
    # Inside allOf: drf-spectacular's enum hook would make a component of a bare enum under "properties".
    return {"allOf": [{"enum": list(values)}]}


class StreamSettingsSerializer(RequestAnyOf, serializers.Serializer):
    """Write: the settings. Read: the same without secrets, plus whether each secret is set."""

    # devices.services.device_set_stream: ONVIF needs its host (the service's default for a PUT is none); a
    # PATCH that leaves the source out keeps the stored one. A blank RTSP URL keeps the stored URL.
    request_any_of = [
        {"required": ["stream_source"], "properties": {"stream_source": _only("", "rtsp")}},
        {
            "required": ["stream_source", "onvif_host"],
            "properties": {"stream_source": _only("onvif"), "onvif_host": {"minLength": 1}},
        },
        {"not": {"required": ["stream_source"]}, "properties": {"onvif_host": {"minLength": 1}}},
    ]

    stream_source = serializers.ChoiceField(choices=StreamSource.choices, allow_blank=True)
    rtsp_url = TextField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        trim_whitespace=False,  # refused with a message by the outbound-connection policy, never trimmed
        help_text=format_lazy(
            "{} {}", _("Write-only; it may carry credentials. Blank or left out keeps the stored URL."), ADDRESS_NOTE
        ),
        schema=STREAM_URL_SCHEMA,
    )
    onvif_host = TextField(
        required=False,
        allow_blank=True,
        max_length=255,
        trim_whitespace=False,
        help_text=ADDRESS_NOTE,
        schema=ONVIF_HOST_SCHEMA,
    )
    onvif_port = IntegerField(required=False, allow_null=True, schema={"minimum": 1, "maximum": 65535})
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


class RegistrationSerializer(RequestAnyOf, serializers.Serializer):
    """The whole registration wizard in one call: all or nothing."""

    # An existing building, or the name of a new one (devices.registration.registration_check_building).
    request_any_of = [
        {"required": ["building"]},
        {"required": ["building_name"], "properties": {"building_name": {"minLength": 1, "pattern": NOT_ONLY_SPACES}}},
    ]

    contract_number = TextField(max_length=32, schema={"pattern": CONTRACT_NUMBER_PATTERN})
    mac = mac_field(help_text=_("AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF"))
    building = OperatorScopedPKField(
        selector=_scoped_buildings,
        required=False,
        help_text=_("An existing building of yours; leave out to create one named building_name."),
    )
    building_name = TextField(max_length=100, schema={}, required=False, allow_blank=True)
    room_name = name_field()
    camera_name = device_name_field()

    def to_internal_value(self, data):
        # A JSON null building is taken as left out. The schema says only "leave out" (a form cannot send null).
        if isinstance(data, dict) and "building" in data and data["building"] is None:
            data = {key: value for key, value in data.items() if key != "building"}
        return super().to_internal_value(data)

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
            raise_as_drf(exc, conflicts=LICENSE_CONFLICTS)  # a taken MAC, number or name too: 409


class RegistrationResultSerializer(serializers.Serializer):
    building = serializers.IntegerField()
    room = serializers.IntegerField()
    camera = serializers.IntegerField()
    sensor = serializers.IntegerField(allow_null=True)
