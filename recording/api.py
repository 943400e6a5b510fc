"""REST API (`/api/v1/`) of notification settings, recording conditions and motion detection settings.

Notification settings are admin-only, reads included (viewers get 403); conditions are readable
by every role and changed by admins. Objects come through the access functions: another
operator's room, building or camera in the URL is a 404; another operator's sensor in a body is a
400 "not found", never a link across tenants.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from buildings.selectors import access_building
from buildings.serializers import Conflict, DecimalField, IntegerField, ListField, TextField, raise_as_drf
from devices.serializers import ADDRESS_NOTE, STREAM_URL_SCHEMA

from . import services
from .media_selectors import recording_settings_for
from .models import MotionSource, NotificationType
from .rules import max_recipients
from .selectors import (
    ConditionInForce,
    access_camera,
    access_notification_room,
    access_sensor,
    conditions_in_force,
    notification_setting_for,
    rooms_with_notification_settings,
)


def recipients_field() -> ListField:
    """Mail addresses, at most RECORDING_NOTIFICATION_MAX_RECIPIENTS once de-duplicated (recording.rules
    .clean_recipients checks them with the page's messages)."""
    return ListField(
        child=TextField(max_length=254, schema={"format": "email"}),
        allow_empty=True,
        schema={"maxItems": max_recipients},
    )


class NotificationSettingSerializer(serializers.Serializer):
    room = serializers.IntegerField(source="room_id", read_only=True)
    room_name = serializers.CharField(source="room.name", read_only=True)
    building = serializers.IntegerField(source="room.building_id", read_only=True)
    notification_type = serializers.ChoiceField(choices=NotificationType.choices)
    recipients = recipients_field()
    # Range checked by the service (1 to 1440), so the API refuses with the page's message.
    cooldown_minutes = IntegerField(
        required=False,
        schema={"minimum": services.MIN_COOLDOWN_MINUTES, "maximum": services.MAX_COOLDOWN_MINUTES},
        help_text=_(
            "Minutes the room's motion / recorded-video mails wait after one was sent; then one follow-up lists "
            "them. 1 to 1440 (24 hours); absent keeps the room's (10 by default)."
        ),
    )


class BulkResultSerializer(serializers.Serializer):
    building = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    rooms_overwritten = serializers.IntegerField()
    rooms_changed = NotificationSettingSerializer(many=True, help_text="The rooms whose value differed, as before.")
    rooms = NotificationSettingSerializer(many=True)


class ConditionSerializer(serializers.Serializer):
    sensor = serializers.IntegerField(source="sensor.pk")
    sensor_name = serializers.CharField(source="sensor.name", read_only=True)
    room = serializers.IntegerField(source="sensor.room_id", read_only=True)
    room_name = serializers.CharField(source="sensor.room.name", read_only=True)
    automatic = serializers.BooleanField(read_only=True)


class ConditionCreateSerializer(serializers.Serializer):
    sensor = serializers.IntegerField(min_value=1)


def _save_setting(request: Request, *, save, partial_base=None) -> dict:
    serializer = NotificationSettingSerializer(data=request.data, partial=partial_base is not None)
    serializer.is_valid(raise_exception=True)
    data = {
        "notification_type": serializer.validated_data.get(
            "notification_type", getattr(partial_base, "notification_type", None)
        ),
        "recipients": serializer.validated_data.get("recipients", getattr(partial_base, "recipients", None)),
        "cooldown_minutes": serializer.validated_data.get("cooldown_minutes"),  # None keeps the room's
    }
    try:
        return save(**data)
    except DjangoValidationError as exc:
        raise_as_drf(exc)


# A list of addresses, or a null, takes JSON: a form cannot send an empty list (no field at all reads as left out)
# nor a null.
JSON_ONLY = [JSONParser]


class RoomNotificationSettingView(GenericAPIView):
    """A room's recipients, notification type ("troubles" is the default) and mail cooldown in minutes."""

    serializer_class = NotificationSettingSerializer
    parser_classes = JSON_ONLY

    def _room(self):
        return access_notification_room(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["room_id"]
        )

    def get(self, request: Request, room_id: str) -> Response:
        return Response(NotificationSettingSerializer(notification_setting_for(room=self._room())).data)

    def put(self, request: Request, room_id: str) -> Response:
        room = self._room()
        setting = _save_setting(
            request, save=lambda **data: services.notification_setting_update(user=request.user, room=room, **data)
        )
        return Response(NotificationSettingSerializer(setting).data)

    def patch(self, request: Request, room_id: str) -> Response:
        room = self._room()
        current = notification_setting_for(room=room)
        setting = _save_setting(
            request,
            partial_base=current,
            save=lambda **data: services.notification_setting_update(user=request.user, room=room, **data),
        )
        return Response(NotificationSettingSerializer(setting).data)


class BuildingNotificationSettingsView(GenericAPIView):
    """GET: every room's setting. The bulk settings are the two endpoints below (recipients; type)."""

    serializer_class = NotificationSettingSerializer
    pagination_class = None

    @extend_schema(responses=NotificationSettingSerializer(many=True))
    def get(self, request: Request, building_id: str) -> Response:
        building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
        rooms = rooms_with_notification_settings(operator=request.operator, building=building)
        return Response(NotificationSettingSerializer([r.notification for r in rooms], many=True).data)


class BulkRecipientsSerializer(serializers.Serializer):
    recipients = recipients_field()
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text=_("True: only list the rooms that would change; save nothing.")
    )


class BulkTypeSerializer(serializers.Serializer):
    notification_type = serializers.ChoiceField(choices=NotificationType.choices)
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text=_("True: only list the rooms that would change; save nothing.")
    )


class _BulkFieldView(GenericAPIView):
    """PUT one field for every room of the building; each room's other field stays (docs/product.md §5.2).
    The answer lists the rooms whose value differed (`rooms_changed`, with their value before); with
    `dry_run` nothing is saved, so a client can show them before overwriting."""

    pagination_class = None
    field = ""
    service = None

    @extend_schema(responses=BulkResultSerializer)
    def put(self, request: Request, building_id: str) -> Response:
        building = access_building(operator=request.operator, user=request.user, pk=building_id, write=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        before = {
            r.pk: r.notification for r in rooms_with_notification_settings(operator=request.operator, building=building)
        }
        try:
            changed = type(self).service(
                user=request.user, building=building, dry_run=data["dry_run"], **{self.field: data[self.field]}
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        rooms = rooms_with_notification_settings(operator=request.operator, building=building)
        result = {
            "building": building.pk,
            "dry_run": data["dry_run"],
            "rooms_overwritten": 0 if data["dry_run"] else len(changed),
            "rooms_changed": [before[r.pk] for r in changed],
            "rooms": [r.notification for r in rooms],
        }
        return Response(BulkResultSerializer(result).data)


class BuildingBulkRecipientsView(_BulkFieldView):
    serializer_class = BulkRecipientsSerializer
    parser_classes = JSON_ONLY
    field = "recipients"
    service = staticmethod(services.notification_recipients_bulk_update)


class BuildingBulkTypeView(_BulkFieldView):
    serializer_class = BulkTypeSerializer
    field = "notification_type"
    service = staticmethod(services.notification_type_bulk_update)


class CameraConditionsView(GenericAPIView):
    """The triggers of a camera: automatic (same-room sensors) and added ones. POST adds one."""

    serializer_class = ConditionSerializer
    pagination_class = None

    def _camera(self, write: bool = False):
        return access_camera(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["camera_id"], write=write
        )

    @extend_schema(operation_id="v1_cameras_recording_conditions_list", responses=ConditionSerializer(many=True))
    def get(self, request: Request, camera_id: str) -> Response:
        conditions = conditions_in_force(operator=request.operator, camera=self._camera())
        return Response(ConditionSerializer(conditions, many=True).data)

    @extend_schema(request=ConditionCreateSerializer, responses={201: ConditionSerializer})
    def post(self, request: Request, camera_id: str) -> Response:
        camera = self._camera(write=True)
        body = ConditionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            sensor = access_sensor(operator=request.operator, user=request.user, pk=body.validated_data["sensor"])
        except Http404:
            raise serializers.ValidationError({"sensor": [_("Not found: no motion sensor with this id.")]}) from None
        try:
            services.condition_add(user=request.user, camera=camera, sensor=sensor)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(
            ConditionSerializer(ConditionInForce(sensor=sensor, automatic=False)).data, status=status.HTTP_201_CREATED
        )


class CameraConditionView(GenericAPIView):
    """One trigger of a camera. DELETE removes an added one; automatic ones answer 409."""

    serializer_class = ConditionSerializer

    def _pair(self, write: bool = False):
        camera = access_camera(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["camera_id"], write=write
        )
        sensor = access_sensor(operator=self.request.operator, user=self.request.user, pk=self.kwargs["sensor_id"])
        return camera, sensor

    def get(self, request: Request, camera_id: str, sensor_id: str) -> Response:
        camera, sensor = self._pair()
        for condition in conditions_in_force(operator=request.operator, camera=camera):
            if condition.sensor.pk == sensor.pk:
                return Response(ConditionSerializer(condition).data)
        raise Http404

    def delete(self, request: Request, camera_id: str, sensor_id: str) -> Response:
        camera, sensor = self._pair(write=True)
        try:
            services.condition_delete(user=request.user, camera=camera, sensor=sensor)
        except DjangoValidationError as exc:
            if services.condition_is_automatic(camera=camera, sensor=sensor):
                # Well formed, refused by where the sensor is (its room, stored): a state conflict.
                raise Conflict({api_settings.NON_FIELD_ERRORS_KEY: exc.messages}) from None
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MotionSettingsSerializer(serializers.Serializer):
    """Write: where motion comes from and the sub-stream. Read: the same without the secret URL, plus
    what the recorder found (docs/user-guide.md, "Server-side motion")."""

    motion_source = serializers.ChoiceField(choices=MotionSource.choices)
    sub_stream_url = TextField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        trim_whitespace=False,  # refused with a message by the outbound-connection policy, never trimmed
        help_text=format_lazy(
            "{} {}",
            _lazy("Write-only; it may carry credentials. Blank or left out keeps the stored URL."),
            ADDRESS_NOTE,
        ),
        schema=STREAM_URL_SCHEMA,
    )
    clear_sub_stream = serializers.BooleanField(write_only=True, required=False, default=False)
    record_audio = serializers.BooleanField(
        required=False, help_text=_("False: video only (privacy). Left out keeps the setting.")
    )
    sub_stream_url_set = serializers.BooleanField(read_only=True)
    motion_decode = serializers.CharField(read_only=True)
    motion_stream = serializers.CharField(read_only=True)
    motion_gop_seconds = serializers.FloatField(read_only=True, allow_null=True)
    motion_note = serializers.CharField(read_only=True)

    def to_representation(self, row) -> dict:
        return {
            "motion_source": row.motion_source,
            "sub_stream_url_set": bool(row.motion_sub_stream_url),
            "record_audio": row.record_audio,
            "motion_decode": row.motion_decode,
            "motion_stream": row.motion_stream,
            "motion_gop_seconds": row.motion_gop_seconds,
            "motion_note": row.motion_note,
        }


class CameraMotionSettingsView(GenericAPIView):
    """A camera's motion detection: GET (every role of the owner), PUT (admins)."""

    serializer_class = MotionSettingsSerializer
    pagination_class = None

    def _camera(self, write: bool = False):
        return access_camera(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["camera_id"], write=write
        )

    def get(self, request: Request, camera_id: str) -> Response:
        return Response(MotionSettingsSerializer(recording_settings_for(self._camera(write=True))).data)

    def put(self, request: Request, camera_id: str) -> Response:
        camera = self._camera(write=True)
        body = MotionSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            row = services.motion_settings_update(
                user=request.user,
                camera=camera,
                motion_source=data["motion_source"],
                sub_stream_url=data.get("sub_stream_url") or None,
                clear_sub_stream=data.get("clear_sub_stream", False),
                record_audio=data.get("record_audio"),
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc, conflicts={"needs_onvif"})  # a well-formed choice the camera's set-up refuses
        return Response(MotionSettingsSerializer(row).data)


class RecordingSettingsSerializer(serializers.Serializer):
    quota_gb = DecimalField(
        max_digits=9,
        decimal_places=2,
        allow_null=True,
        required=False,
        help_text=_("Null: the default."),
        # Above 0 (recording.services.recording_settings_update): 0.01 to 9999999.99.
        schema={"pattern": r"^([1-9][0-9]{0,6}(\.[0-9]{1,2})?|0?\.(0[1-9]|[1-9][0-9]?))$"},
    )
    export_max_minutes = IntegerField(
        allow_null=True,
        required=False,
        help_text=_("1 to 1440; null: the default."),
        schema={"minimum": 1, "maximum": services.MAX_EXPORT_MINUTES},
    )
    confirm_deletion = serializers.BooleanField(write_only=True, required=False, default=False)
    used_gb = serializers.FloatField(read_only=True)
    storage_days = serializers.FloatField(read_only=True, allow_null=True)


def _recording_settings(camera) -> dict:
    from .media_selectors import retention_figure

    row = recording_settings_for(camera)
    figure = retention_figure(camera)
    return {
        "quota_gb": None if row.quota_bytes is None else round(row.quota_bytes / 10**9, 2),
        "export_max_minutes": row.export_max_minutes,
        "used_gb": figure.used_bytes / 10**9,
        "storage_days": figure.days,
    }


class CameraRecordingSettingsView(GenericAPIView):
    """The owner's continuous-recording quota (with the storage-days estimate) and export-length limit.
    A receiver of a shared camera gets a 404. A quota below the stored video needs confirm_deletion."""

    serializer_class = RecordingSettingsSerializer
    parser_classes = JSON_ONLY  # null (the default) has no spelling in a form

    def _camera(self, request, camera_id):
        return access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)

    def get(self, request: Request, camera_id: str) -> Response:
        return Response(RecordingSettingsSerializer(_recording_settings(self._camera(request, camera_id))).data)

    def patch(self, request: Request, camera_id: str) -> Response:
        camera = self._camera(request, camera_id)
        row = recording_settings_for(camera)
        serializer = RecordingSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quota_bytes = row.quota_bytes
        if "quota_gb" in data:
            quota_bytes = None if data["quota_gb"] is None else int(data["quota_gb"] * 10**9)
        try:
            services.recording_settings_update(
                user=request.user,
                camera=camera,
                quota_bytes=quota_bytes,
                export_max_minutes=data.get("export_max_minutes", row.export_max_minutes),
                confirm_deletion=data.get("confirm_deletion", False),
            )
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(RecordingSettingsSerializer(_recording_settings(camera)).data)


class MotionSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)
    endpoint = serializers.CharField(read_only=True)


class CameraMotionSecretView(GenericAPIView):
    """POST: a new secret for the camera's motion endpoint, returned once; the old one stops at once."""

    serializer_class = MotionSecretSerializer

    @extend_schema(request=None, responses=MotionSecretSerializer)
    def post(self, request: Request, camera_id: str) -> Response:
        from django.urls import reverse

        from devices.services import device_secret_rotate

        camera = access_camera(operator=request.operator, user=request.user, pk=camera_id, write=True)
        try:
            secret = device_secret_rotate(user=request.user, device=camera)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        endpoint = request.build_absolute_uri(reverse("recording:motion_endpoint", kwargs={"device_id": camera.pk}))
        response = Response({"secret": secret, "endpoint": endpoint})
        response["Cache-Control"] = "no-store"
        return response
