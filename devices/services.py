"""Writes of devices: registration by MAC (cameras, edge recorders and their channels), rename, delete,
exchange, stream settings.

Every write takes the acting `user` and checks it here (`require_admin`): views and the API only look
the device up (`access_device(write=True)`, a 404 for another operator's or a shared camera) and
translate the errors."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buildings.models import Room
from tenants.access import require_admin
from tenants.models import User

from . import hooks
from .models import Device, DeviceExchange, DeviceKind, StreamSource, new_device_secret
from .outbound import clean_onvif_host, clean_stream_url

NAME_MIN, NAME_MAX = 3, 64
MAX_CHANNELS = 64  # channels of one edge recorder
CHANNEL_PLACEHOLDER = "{channel}"
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


def clean_new_mac(raw: str, *, exclude: Device | None = None) -> str:
    """The one MAC check (the wizard, adding a device, exchanging one): `raw` normalized and not
    registered to any device but `exclude`; else ValidationError with the message."""
    mac = normalize_mac(raw)
    ensure_mac_free(mac, exclude=exclude)
    return mac


def _raise_if_mac_taken(mac: str, *, exclude: Device | None = None) -> None:
    """After an IntegrityError: a concurrent registration that took `mac` between the check and the
    write gets the same "mac" field error as the check."""
    try:
        ensure_mac_free(mac, exclude=exclude)
    except ValidationError as exc:
        raise ValidationError({"mac": exc.error_list}) from None


def camera_register_check(*, name: str, mac: str) -> tuple[str, str]:
    """The cleaned camera name and normalized, unregistered MAC; else ValidationError keyed "name" / "mac"."""
    errors: dict[str, list[str]] = {}
    try:
        name = validate_device_name(name)
    except ValidationError as exc:
        errors["name"] = exc.error_list
    try:
        mac = clean_new_mac(mac)
    except ValidationError as exc:
        errors["mac"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return name, mac


def _device_create_by_mac(*, room: Room, kind: str, name: str, mac: str) -> Device:
    """Create a device with a checked MAC. Losing a race with a concurrent registration of the same
    MAC gives the same "mac" field error as the check."""
    try:
        with transaction.atomic():
            return Device.objects.create(operator=room.operator, room=room, kind=kind, name=name, mac=mac)
    except IntegrityError:
        _raise_if_mac_taken(mac)
        raise


@transaction.atomic
def camera_register(*, user: User, room: Room, name: str, mac: str) -> Device:
    """Register a camera and its built-in motion sensor together into `room`.

    Raises ValidationError keyed by field ("name", "mac") so forms and the API can place the message.
    """
    require_admin(user)
    hooks.camera_allowed(operator=room.operator)  # a free license (docs/product.md §7)
    name, mac = camera_register_check(name=name, mac=mac)
    camera = _device_create_by_mac(room=room, kind=DeviceKind.CAMERA, name=name, mac=mac)
    sensor_name = (name + " " + _("sensor"))[:NAME_MAX]
    Device.objects.create(operator=room.operator, room=room, kind=DeviceKind.SENSOR, name=sensor_name, parent=camera)
    return camera


@transaction.atomic
def recorder_register(*, user: User, room: Room, name: str, mac: str) -> Device:
    """Register an edge recorder (NVR) by its MAC. Its channels are added afterwards (`channel_add`);
    each channel is a camera that needs a license, the recorder itself needs none."""
    require_admin(user)
    name, mac = camera_register_check(name=name, mac=mac)
    return _device_create_by_mac(room=room, kind=DeviceKind.RECORDER, name=name, mac=mac)


def channel_add_check(*, recorder: Device, channel: int | None, name: str) -> tuple[int, str]:
    """The channel number and cleaned name of a new channel of `recorder`; else ValidationError keyed
    "channel" / "name"."""
    errors: dict[str, list[str]] = {}
    if recorder.kind != DeviceKind.RECORDER:
        raise ValidationError({"channel": [_("Only an edge recorder has channels.")]}, code="not_recorder")
    if channel is None or not 1 <= channel <= MAX_CHANNELS:
        errors["channel"] = [_("The channel must be a number from 1 to %(max)d.") % {"max": MAX_CHANNELS}]
    elif Device.objects.filter(parent=recorder, channel=channel).exists():
        errors["channel"] = [_("Channel %(channel)d of this recorder is already registered.") % {"channel": channel}]
    try:
        name = validate_device_name(name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return channel, name


@transaction.atomic
def channel_add(*, user: User, recorder: Device, channel: int | None, name: str) -> Device:
    """Register channel `channel` of an edge recorder as a camera in the recorder's room. Its stream
    comes from the recorder (its RTSP URL with {channel} filled in, or its Nth ONVIF media profile)
    unless the channel is given stream settings of its own. It needs an edge-storage license."""
    require_admin(user)
    recorder = Device.objects.select_for_update().get(pk=recorder.pk)  # one channel number at a time
    channel, name = channel_add_check(recorder=recorder, channel=channel, name=name)
    hooks.camera_allowed(operator=recorder.operator, behind_recorder=True)
    return Device.objects.create(
        operator=recorder.operator,
        room=recorder.room,
        kind=DeviceKind.CAMERA,
        name=name,
        parent=recorder,
        channel=channel,
    )


@transaction.atomic
def device_rename(*, user: User, device: Device, name: str) -> Device:
    require_admin(user)
    device.name = device_rename_check(name=name)
    device.save(update_fields=["name"])
    return device


@transaction.atomic
def device_delete(*, user: User, device: Device) -> None:
    """Remove the registration (and its sensor). The physical camera is not touched."""
    require_admin(user)
    device.delete()


def device_exchange_check(*, device: Device, new_mac: str) -> str:
    """The normalized new MAC for exchanging `device`; else ValidationError keyed "mac"."""
    if device.kind == DeviceKind.SENSOR:
        # A built-in sensor has no MAC of its own: it is exchanged together with its camera.
        raise ValidationError({"mac": _("Only a camera can be exchanged; its sensor goes with it.")})
    if device.channel is not None:
        raise ValidationError({"mac": _("A recorder channel has no MAC of its own: exchange the recorder.")})
    try:
        new_mac = clean_new_mac(new_mac, exclude=device)
    except ValidationError as exc:
        raise ValidationError({"mac": exc.error_list}) from None
    if device.mac == new_mac:
        raise ValidationError({"mac": _("The new MAC address is the same as the current one.")}, code="mac_same")
    return new_mac


def device_rename_check(*, name: str) -> str:
    try:
        return validate_device_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.error_list}) from None


@transaction.atomic
def device_exchange(*, user: User, device: Device, new_mac: str) -> Device:
    """Replace a broken camera: new MAC, same id, room, name, settings and history."""
    require_admin(user)
    hooks.maintenance_require(device=device)
    new_mac = device_exchange_check(device=device, new_mac=new_mac)
    device = Device.objects.select_for_update().get(pk=device.pk)
    old_mac = device.mac or ""
    device.mac = new_mac
    device.trouble_state = ""
    device.trouble_since = None
    try:
        with transaction.atomic():
            device.save(update_fields=["mac", "trouble_state", "trouble_since"])
    except IntegrityError:
        _raise_if_mac_taken(new_mac, exclude=device)
        raise
    DeviceExchange.objects.create(operator=device.operator, device=device, old_mac=old_mac, new_mac=new_mac, by=user)
    return device


def _clean_rtsp_url(value: str) -> str:
    """The outbound-connection policy decides (devices/outbound.py): rtsp(s) only, no control character
    or whitespace anywhere (refused, never stripped), no refused address; stored re-serialised."""
    return clean_stream_url(value)


@transaction.atomic
def device_set_stream(
    *,
    user: User,
    device: Device,
    source: str,
    rtsp_url: str | None = None,
    onvif_host: str = "",
    onvif_port: int | None = None,
    onvif_user: str = "",
    onvif_password: str | None = None,
) -> Device:
    """Stream settings of a camera. The RTSP URL (it may carry credentials) and the ONVIF password are
    write-only: a blank / None value keeps the stored one, because forms never show it back.

    Settings of the source not chosen are cleared so no forgotten credential stays stored.
    Raises ValidationError keyed by field.
    """
    require_admin(user)
    if device.kind == DeviceKind.SENSOR:
        raise ValidationError({"source": _("Only a camera has stream settings.")}, code="not_camera")
    hooks.maintenance_require(device=device)
    errors: dict[str, str] = {}
    onvif_user = (onvif_user or "").strip()
    if source == StreamSource.RTSP:
        if rtsp_url:
            try:
                device.rtsp_url = _clean_rtsp_url(rtsp_url)
            except ValidationError as exc:
                errors["rtsp_url"] = exc.messages[0]
            else:
                if device.kind == DeviceKind.RECORDER and CHANNEL_PLACEHOLDER not in device.rtsp_url:
                    errors["rtsp_url"] = _(
                        "An edge recorder's RTSP URL must contain {channel} where the channel number goes, "
                        "e.g. rtsp://192.0.2.10:554/ch{channel}."
                    )
        elif not device.rtsp_url:
            errors["rtsp_url"] = _("Enter the RTSP URL.")
        device.onvif_host, device.onvif_port, device.onvif_user, device.onvif_password = "", None, "", ""
    elif source == StreamSource.ONVIF:
        if not onvif_host:
            errors["onvif_host"] = _("Enter the ONVIF host.")
        else:
            try:
                onvif_host = clean_onvif_host(onvif_host)
            except ValidationError as exc:
                errors["onvif_host"] = exc.messages[0]
        if onvif_port is not None and not 1 <= onvif_port <= 65535:
            errors["onvif_port"] = _("The ONVIF port must be between 1 and 65535.")
        if len(onvif_user) > 64:
            errors["onvif_user"] = _("The ONVIF user must be at most 64 characters.")
        if len(onvif_password or "") > 256:
            errors["onvif_password"] = _("The ONVIF password must be at most 256 characters.")
        device.onvif_host, device.onvif_port, device.onvif_user = onvif_host, onvif_port or 80, onvif_user
        if onvif_password:
            device.onvif_password = onvif_password
        device.rtsp_url = ""
    elif source == StreamSource.NONE:
        device.rtsp_url, device.onvif_password = "", ""
        device.onvif_host, device.onvif_port, device.onvif_user = "", None, ""
    else:
        errors["source"] = _("Unknown stream source.")
    if errors:
        device.refresh_from_db()  # the caller's instance must not keep half-applied values
        raise ValidationError(errors)
    device.stream_source = source
    device.save(update_fields=["stream_source", "rtsp_url", "onvif_host", "onvif_port", "onvif_user", "onvif_password"])
    return device


def device_trouble_refresh(*, device: Device):
    """ "Refresh trouble info" of one device, for the page and the API alike: refused (ValidationError,
    code "maintenance_stopped") while the license stops remote maintenance, else the camera is asked now
    (recording's probe, devices/hooks.py) and the stored state re-read. Returns the probe's answer (None
    when no app probes cameras)."""
    hooks.maintenance_require(device=device)
    check = hooks.trouble_probe(camera=device)
    device.refresh_from_db(fields=["trouble_state", "trouble_since", "trouble_checked_at"])
    return check


def device_delete_summary(device: Device) -> dict[str, int]:
    """What goes with a device registration, for the confirmation screen."""
    if device.kind == DeviceKind.RECORDER:
        return {"cameras": device.children.filter(kind=DeviceKind.CAMERA).count(), "sensors": 0}
    return {
        "cameras": 1 if device.kind == DeviceKind.CAMERA else 0,
        "sensors": device.children.filter(kind=DeviceKind.SENSOR).count()
        + (1 if device.kind == DeviceKind.SENSOR else 0),
    }


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


@transaction.atomic
def device_secret_rotate(*, user: User, device: Device) -> str:
    """A new secret for the device's motion endpoint (`Authorization: Device <secret>`); the old one stops
    at once. Returned once, to be shown once: it is never logged nor shown again."""
    require_admin(user)
    if device.operator_id != user.operator_id or device.kind == DeviceKind.RECORDER:
        raise ValidationError(_("Only a camera or motion sensor of your own has a motion secret."))
    secret = new_device_secret()
    Device.objects.filter(pk=device.pk).update(ingest_secret=secret)
    device.ingest_secret = secret
    return secret
