"""Reads of notification settings and recording conditions, always scoped to one operator."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from buildings.models import Building, Room
from buildings.selectors import access_room, room_list
from devices.models import Device, DeviceKind
from devices.selectors import access_device, camera_list, device_list
from tenants.models import Operator, User

from .models import DEFAULT_NOTIFICATION_TYPE, NotificationLog, NotificationSetting, RecordingCondition

# ----------------------------------------------------------------------------- notifications


def notification_setting_for(*, room: Room) -> NotificationSetting:
    """The room's setting, or an unsaved default one (troubles only, no recipients)."""
    setting = NotificationSetting.objects.for_operator(room.operator_id).filter(room=room).first()
    if setting is None:
        setting = NotificationSetting(
            operator_id=room.operator_id, room=room, notification_type=DEFAULT_NOTIFICATION_TYPE, recipients=[]
        )
    return setting


def rooms_with_notification_settings(*, operator: Operator, building: Building) -> list[Room]:
    """The building's rooms, each with `.notification` set to its setting (default when unsaved)."""
    rooms = list(room_list(operator=operator, building=building))
    settings = {
        s.room_id: s for s in NotificationSetting.objects.for_operator(operator).filter(room__in=[r.pk for r in rooms])
    }
    for room in rooms:
        room.notification = settings.get(room.pk) or NotificationSetting(
            operator=operator, room=room, notification_type=DEFAULT_NOTIFICATION_TYPE, recipients=[]
        )
    return rooms


def access_notification_room(*, operator: Operator, user: User, pk) -> Room:
    """A room whose notification settings `user` may read or change. Security guarantee: 404 for
    another operator's room; 403 for anyone but an admin, even to read (recipients are personal
    data and the manual gives viewers no access to notification settings)."""
    return access_room(operator=operator, user=user, pk=pk, write=True)


def device_for_notification(*, device_id: int) -> Device | None:
    """System-side lookup for background tasks, which act for no user: the device by id or None.
    Everything the task does afterwards is scoped to this device's operator."""
    return Device.objects.select_related("room", "room__building", "operator").filter(pk=device_id).first()


def pending_notifications(*, device: Device) -> QuerySet[NotificationLog]:
    return NotificationLog.objects.for_operator(device.operator_id).filter(
        device=device, status=NotificationLog.Status.PENDING
    )


# ----------------------------------------------------------------------------- recording conditions


@dataclass(frozen=True)
class ConditionInForce:
    """A trigger of a camera as shown beside its live view: automatic (same room) or added."""

    sensor: Device
    automatic: bool
    condition: RecordingCondition | None = None


def access_camera(*, operator: Operator, user: User, pk, write: bool = False) -> Device:
    """A camera `user` may see (own, or shared to `operator`). Security guarantee: 404 for another
    operator's device, a missing one, a device that is not a camera, and any write to a shared camera;
    403 when `write` and the user is not an admin."""
    # write= goes to access_device: a camera shared to `operator` is a 404 for every write.
    device = access_device(operator=operator, user=user, pk=pk, write=write)
    if device.kind != DeviceKind.CAMERA:
        raise Http404
    return device


def access_sensor(*, operator: Operator, user: User, pk) -> Device:
    """A motion sensor of `operator` (read only). Security guarantee: 404 for another operator's
    device, a missing one or a device that is not a sensor."""
    device = access_device(operator=operator, user=user, pk=pk)
    if device.kind != DeviceKind.SENSOR:
        raise Http404
    return device


def condition_list(*, operator: Operator, camera: Device) -> QuerySet[RecordingCondition]:
    """Added (cross-room) conditions of `camera`."""
    return (
        RecordingCondition.objects.for_operator(operator)
        .filter(camera=camera)
        .select_related("sensor", "sensor__room", "sensor__room__building")
    )


def conditions_in_force(*, operator: Operator, camera: Device) -> list[ConditionInForce]:
    """Every trigger of `camera`: its own room's sensors first (automatic), then the added ones."""
    own = device_list(operator=operator, room=camera.room, kind=DeviceKind.SENSOR)
    result = [ConditionInForce(sensor=s, automatic=True) for s in own]
    result += [
        ConditionInForce(sensor=c.sensor, automatic=False, condition=c)
        for c in condition_list(operator=operator, camera=camera)
    ]
    return result


def condition_candidate_rooms(*, operator: Operator, camera: Device) -> QuerySet[Room]:
    """Rooms whose sensors may be added as triggers: every room but the camera's own (whose
    sensors trigger it already), only those with at least one sensor."""
    return room_list(operator=operator).exclude(pk=camera.room_id).filter(sensor_count__gt=0)


def condition_candidate_sensors(*, operator: Operator, camera: Device, room: Room) -> QuerySet[Device]:
    """Sensors of `room` not yet a trigger of `camera`."""
    taken = condition_list(operator=operator, camera=camera).values("sensor_id")
    return device_list(operator=operator, room=room, kind=DeviceKind.SENSOR).exclude(pk__in=taken)


def cameras_triggered_by(*, sensor: Device) -> QuerySet[Device]:
    """The cameras to record when `sensor` fires: every camera of its own room (automatic) and
    the cameras of other rooms with a recording condition on it. Used by the media pipeline.

    A camera passed instead of a sensor (server-side motion detection, no sensor of its own)
    stands for its built-in sensors: it triggers itself, its room, and their conditions.
    """
    operator = sensor.operator
    if sensor.kind == DeviceKind.SENSOR:
        sensor_ids = [sensor.pk]
    else:
        sensor_ids = list(
            device_list(operator=operator, kind=DeviceKind.SENSOR).filter(parent=sensor).values_list("pk", flat=True)
        )
    conditioned = RecordingCondition.objects.for_operator(operator).filter(sensor_id__in=sensor_ids).values("camera_id")
    return camera_list(operator=operator).filter(Q(room_id=sensor.room_id) | Q(pk__in=conditioned)).order_by("pk")
