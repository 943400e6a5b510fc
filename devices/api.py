"""REST API of devices (`/api/v1/devices/`): list/retrieve for every role; register (camera and
sensor by MAC into a room, or an edge recorder), a recorder's `channels`, rename, delete, `exchange`
and `stream` for admins; `trouble-refresh` for every role of the owner; `/api/v1/registrations/`, the
first-registration wizard in one call (devices/registration.py).

Objects come through `access_device` / the selectors: another operator's id is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from buildings.hooks import media_summary
from buildings.serializers import DeleteSummarySerializer, raise_as_drf
from portal.ids import parse_id

from .models import DeviceKind
from .selectors import access_device, device_list, with_sensor
from .serializers import (
    ChannelCreateSerializer,
    DeviceCreateSerializer,
    DeviceExchangeSerializer,
    DeviceRenameSerializer,
    DeviceSerializer,
    DeviceTroubleCheckSerializer,
    RefusalSerializer,
    RegistrationResultSerializer,
    RegistrationSerializer,
    StreamSettingsSerializer,
)
from .services import (
    channel_add,
    device_delete,
    device_delete_summary,
    device_exchange,
    device_set_stream,
    device_trouble_refresh,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("room", int, description="Only the devices of this room (an id)."),
            OpenApiParameter("kind", str, enum=DeviceKind.values, description="Only devices of this kind."),
        ]
    ),
    create=extend_schema(request=DeviceCreateSerializer, responses={201: DeviceSerializer}),
    update=extend_schema(request=DeviceRenameSerializer, responses=DeviceSerializer),
    partial_update=extend_schema(request=DeviceRenameSerializer, responses=DeviceSerializer),
)
class DeviceViewSet(viewsets.ModelViewSet):
    lookup_url_kwarg = "device_id"
    lookup_value_regex = "[0-9]+"
    any_role_may_write = False  # set per action (trouble_refresh: every role, as on the page)

    def get_serializer_class(self):
        return {
            "create": DeviceCreateSerializer,
            "update": DeviceRenameSerializer,
            "partial_update": DeviceRenameSerializer,
            "exchange": DeviceExchangeSerializer,
            "stream": StreamSettingsSerializer,
            "trouble_refresh": DeviceTroubleCheckSerializer,
            "channels": ChannelCreateSerializer,
        }.get(self.action, DeviceSerializer)

    def get_queryset(self):
        params = self.request.query_params
        room = params.get("room")
        room_id = parse_id(room)
        if room and room_id is None:
            raise serializers.ValidationError({"room": [_("Enter the id as a number.")]})
        devices = with_sensor(
            device_list(operator=self.request.operator, user=self.request.user, kind=params.get("kind"))
        )
        # Filtering by id inside the operator's own devices: another operator's room id gives nothing.
        return devices.filter(room_id=room_id) if room_id is not None else devices

    def paginate_queryset(self, queryset):
        # The sort over every device (building, room, kind, name) carries only ids; the page's rows come
        # after it, with their annotations (docs/performance.md "Lists at 5,000 cameras").
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True))
        if ids is None:
            return None
        rows = {device.pk: device for device in queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids]

    def get_object(self):
        return access_device(
            operator=self.request.operator,
            user=self.request.user,
            pk=self.kwargs[self.lookup_url_kwarg],
            write=self.request.method not in SAFE_METHODS,
        )

    def perform_destroy(self, instance) -> None:
        device_delete(user=self.request.user, device=instance)

    @extend_schema(responses=DeleteSummarySerializer)
    @action(detail=True, methods=["get"], url_path="delete-summary")
    def delete_summary(self, request: Request, device_id: str) -> Response:
        """What deleting the device takes with it: its sensor or channels and the recorded media (admins)."""
        device = access_device(operator=request.operator, user=request.user, pk=device_id, write=True)
        summary = {**device_delete_summary(device), "media": media_summary(device=device)}
        return Response(DeleteSummarySerializer(summary).data)

    @extend_schema(request=DeviceExchangeSerializer, responses=DeviceSerializer)
    @action(detail=True, methods=["post"])
    def exchange(self, request: Request, device_id: str) -> Response:
        """Replace a broken camera by a new one (new MAC): id, room, name, settings and history stay."""
        device = self.get_object()
        serializer = DeviceExchangeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            device = device_exchange(user=request.user, device=device, new_mac=serializer.validated_data["mac"])
        except DjangoValidationError as exc:
            raise_as_drf(exc, "mac")
        return Response(DeviceSerializer(device, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={
            200: DeviceTroubleCheckSerializer,
            400: OpenApiResponse(
                RefusalSerializer,
                description="Remote maintenance is stopped: the camera's license expired or it has no license "
                "(the reason in non_field_errors); nothing was asked or changed.",
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="trouble-refresh", any_role_may_write=True)
    def trouble_refresh(self, request: Request, device_id: str) -> Response:
        """Refresh trouble info: ask the camera now and store its trouble state (every role of the owner, as
        on the device page). Refused while the license stops remote maintenance (docs/product.md §7.8)."""
        device = access_device(operator=request.operator, user=request.user, pk=device_id)
        if device.operator_id != request.operator.pk:  # it probes and may mail the owner: a receiver's 404
            raise Http404
        try:
            check = device_trouble_refresh(device=device)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        answer = {
            "device": device,
            "checked": bool(check and check.checked),
            "problem": str(check.problem) if check else "",
            "message": check.message if check else "",
        }
        return Response(DeviceTroubleCheckSerializer(answer, context=self.get_serializer_context()).data)

    @extend_schema(request=ChannelCreateSerializer, responses={201: DeviceSerializer})
    @action(detail=True, methods=["post"])
    def channels(self, request: Request, device_id: str) -> Response:
        """Register one channel of an edge recorder as a camera (it needs a camera license)."""
        recorder = self.get_object()
        if recorder.kind != DeviceKind.RECORDER:
            raise Http404
        serializer = ChannelCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            camera = channel_add(user=request.user, recorder=recorder, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(DeviceSerializer(camera, context=self.get_serializer_context()).data, status=201)

    @extend_schema(methods=["GET"], responses=StreamSettingsSerializer)
    @extend_schema(methods=["PUT", "PATCH"], request=StreamSettingsSerializer, responses=StreamSettingsSerializer)
    # JSON: a null port (the default) has no spelling in a form.
    @action(detail=True, methods=["get", "put", "patch"], parser_classes=[JSONParser])
    def stream(self, request: Request, device_id: str) -> Response:
        """Stream settings of a camera. Secrets are write-only; a blank one keeps the stored value."""
        device = self.get_object()
        if device.shared_by is not None:  # the owner's settings, even to read: not the receiver's
            raise Http404
        if request.method in SAFE_METHODS:
            return Response(StreamSettingsSerializer(device).data)
        partial = request.method == "PATCH"
        serializer = StreamSettingsSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        current = {"onvif_host": device.onvif_host, "onvif_port": device.onvif_port, "onvif_user": device.onvif_user}
        try:
            device = device_set_stream(
                user=request.user,
                device=device,
                source=data.get("stream_source", device.stream_source),
                rtsp_url=data.get("rtsp_url") or None,
                onvif_host=data.get("onvif_host", current["onvif_host"] if partial else ""),
                onvif_port=data.get("onvif_port", current["onvif_port"] if partial else None),
                onvif_user=data.get("onvif_user", current["onvif_user"] if partial else ""),
                onvif_password=data.get("onvif_password") or None,
            )
        except DjangoValidationError as exc:
            errors = exc.message_dict
            if "source" in errors:  # the service's name for the field this API calls stream_source
                errors["stream_source"] = errors.pop("source")
            raise serializers.ValidationError(errors) from exc
        return Response(StreamSettingsSerializer(device).data)


class RegistrationViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Contract number + camera MAC → new or existing building → room → camera with its sensor, at once."""

    serializer_class = RegistrationSerializer

    @extend_schema(request=RegistrationSerializer, responses={201: RegistrationResultSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        camera = serializer.save()
        sensor = camera.children.first()
        result = {
            "building": camera.room.building_id,
            "room": camera.room_id,
            "camera": camera.pk,
            "sensor": sensor.pk if sensor else None,
        }
        return Response(RegistrationResultSerializer(result).data, status=status.HTTP_201_CREATED)
