"""Writes of devices: registration by MAC, rename, delete, exchange, stream settings."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buildings.models import Room
from tenants.models import User

from .models import Device, DeviceExchange, DeviceKind, StreamSource

NAME_MIN, NAME_MAX = 3, 64
_MAC_CHARS = re.compile(r"[^0-9a-fA-F]")
_MAC_SHAPES = (
    re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$"),
    re.compile(r"^[0-9a-fA-F]{12}$"),
)


def normalize_mac(raw: str) -> str:
    """'aa-bb-cc-dd-ee-ff', 'AABBCCDDEEFF' or 'aa:bb:…' → 'AA:BB:CC:DD:EE:FF'; else ValidationError."""
    value = (raw or "").strip()
    if not any(shape.match(value) for shape in _MAC_SHAPES):
        raise ValidationError(
            _("Enter the MAC address as AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF or AABBCCDDEEFF."),
            code="mac_format",
        )
    hexdigits = _MAC_CHARS.sub("", value).upper()
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def validate_device_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise ValidationError(
            _("The device name must be %(min)d to %(max)d characters (now %(len)d).")
            % {"min": NAME_MIN, "max": NAME_MAX, "len": len(name)},
            code="name_length",
        )
    return name


def ensure_mac_free(mac: str, *, exclude: Device | None = None) -> None:
    taken = Device.objects.filter(mac=mac)  # global check: a camera can be registered once in the system
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            _("The camera %(mac)s is already registered. A camera can be registered only once.") % {"mac": mac},
            code="mac_taken",
        )


@transaction.atomic
def camera_register(*, user: User, room: Room, name: str, mac: str) -> Device:
    """Register a camera and its built-in motion sensor together into `room`."""
    mac = normalize_mac(mac)
    name = validate_device_name(name)
    ensure_mac_free(mac)
    try:
        with transaction.atomic():
            camera = Device.objects.create(
                operator=room.operator, room=room, kind=DeviceKind.CAMERA, name=name, mac=mac
            )
    except IntegrityError:  # lost a race with a concurrent registration of the same MAC
        ensure_mac_free(mac)
        raise
    sensor_name = (name + " " + _("sensor"))[:NAME_MAX]
    Device.objects.create(operator=room.operator, room=room, kind=DeviceKind.SENSOR, name=sensor_name, parent=camera)
    return camera


@transaction.atomic
def device_rename(*, user: User, device: Device, name: str) -> Device:
    device.name = validate_device_name(name)
    device.save(update_fields=["name"])
    return device


@transaction.atomic
def device_delete(*, user: User, device: Device) -> None:
    """Remove the registration (and its sensor). The physical camera is not touched."""
    device.delete()


@transaction.atomic
def device_exchange(*, user: User, device: Device, new_mac: str) -> Device:
    """Replace a broken camera: new MAC, same room, name, settings and history."""
    new_mac = normalize_mac(new_mac)
    if device.mac == new_mac:
        raise ValidationError(_("The new MAC address is the same as the current one."), code="mac_same")
    ensure_mac_free(new_mac, exclude=device)
    device = Device.objects.select_for_update().get(pk=device.pk)
    DeviceExchange.objects.create(
        operator=device.operator, device=device, old_mac=device.mac or "", new_mac=new_mac, by=user
    )
    device.mac = new_mac
    device.trouble_state = ""
    device.trouble_since = None
    device.save(update_fields=["mac", "trouble_state", "trouble_since"])
    return device


@transaction.atomic
def device_set_stream(
    *,
    user: User,
    device: Device,
    source: str,
    rtsp_url: str = "",
    onvif_host: str = "",
    onvif_port: int | None = None,
    onvif_user: str = "",
    onvif_password: str | None = None,
) -> Device:
    """Stream settings. A blank `onvif_password` (None) keeps the stored one: it is never shown back."""
    if source == StreamSource.RTSP:
        if not rtsp_url.startswith(("rtsp://", "rtsps://")):
            raise ValidationError(_("The RTSP URL must start with rtsp:// or rtsps://."), code="rtsp_url")
        device.rtsp_url = rtsp_url
    elif source == StreamSource.ONVIF:
        if not onvif_host:
            raise ValidationError(_("Enter the ONVIF host."), code="onvif_host")
        if onvif_port is not None and not 1 <= onvif_port <= 65535:
            raise ValidationError(_("The ONVIF port must be between 1 and 65535."), code="onvif_port")
        device.onvif_host, device.onvif_port, device.onvif_user = onvif_host, onvif_port or 80, onvif_user
        if onvif_password:
            device.onvif_password = onvif_password
    elif source != StreamSource.NONE:
        raise ValidationError(_("Unknown stream source."), code="source")
    device.stream_source = source
    device.save()
    return device


def device_set_trouble(*, device: Device, state: str) -> bool:
    """Set the trouble state; returns True when it changed (workers mail only on transitions)."""
    now = timezone.now()
    changed = (
        Device.objects.filter(pk=device.pk)
        .exclude(trouble_state=state)
        .update(trouble_state=state, trouble_since=now if state else None, trouble_checked_at=now)
    )
    if not changed:
        Device.objects.filter(pk=device.pk).update(trouble_checked_at=now)
    return bool(changed)
