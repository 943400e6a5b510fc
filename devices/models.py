"""Cameras, their built-in motion sensors and edge recorders, registered by MAC address."""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField
from tenants.models import TenantModel


class DeviceKind(models.TextChoices):
    CAMERA = "camera", _("Camera")
    SENSOR = "sensor", _("Motion sensor")
    RECORDER = "recorder", _("Edge recorder")


class TroubleState(models.TextChoices):
    NONE = "", _("No trouble")
    NETWORK = "network", _("Network disconnected")
    STORAGE = "storage", _("Storage (SD card) error: continuous recording impossible")
    DELETED = "deleted", _("Device deleted or account changed")
    UNKNOWN = "unknown", _("Unknown error")
    # Set by recording while the license stops the camera (docs/product.md §7.8); cleared when it resumes.
    LICENSE_EXPIRED = "license_expired", _("License expired: recording stopped")
    LICENSE_MISSING = "license_missing", _("No license: recording stopped")


class StreamSource(models.TextChoices):
    NONE = "", _("Not configured")
    RTSP = "rtsp", _("RTSP URL")
    ONVIF = "onvif", _("ONVIF")


def new_device_secret() -> str:
    return secrets.token_urlsafe(32)


class Device(TenantModel):
    room = models.ForeignKey("buildings.Room", on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(_("kind"), max_length=16, choices=DeviceKind.choices, default=DeviceKind.CAMERA)
    name = models.CharField(_("device name"), max_length=64)
    # Normalized "AA:BB:CC:DD:EE:FF"; unique across the whole system. A built-in sensor has none.
    mac = models.CharField(_("MAC address"), max_length=17, unique=True, null=True, blank=True)
    # A sensor belongs to its camera; a camera may be a channel of an edge recorder.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    channel = models.PositiveSmallIntegerField(null=True, blank=True)

    stream_source = models.CharField(
        _("stream source"), max_length=8, choices=StreamSource.choices, default=StreamSource.NONE, blank=True
    )
    rtsp_url = EncryptedTextField(_("RTSP URL"), blank=True)  # may carry credentials
    onvif_host = models.CharField(_("ONVIF host"), max_length=255, blank=True)
    onvif_port = models.PositiveIntegerField(_("ONVIF port"), null=True, blank=True)
    onvif_user = models.CharField(_("ONVIF user"), max_length=64, blank=True)
    onvif_password = EncryptedTextField(_("ONVIF password"), blank=True)
    # Authenticates the camera's own sensor events posted to the per-device endpoint.
    ingest_secret = models.CharField(max_length=64, default=new_device_secret, editable=False)

    trouble_state = models.CharField(
        _("trouble"), max_length=16, choices=TroubleState.choices, default=TroubleState.NONE, blank=True
    )
    trouble_since = models.DateTimeField(null=True, blank=True)
    trouble_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room__building__name", "room__name", "kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "channel"], condition=models.Q(channel__isnull=False), name="device_channel_once"
            )
        ]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return self.name

    @property
    def has_stream_settings(self) -> bool:
        return bool(self.rtsp_url) or bool(self.onvif_host)

    @property
    def is_recorder_channel(self) -> bool:
        return self.channel is not None and self.parent_id is not None


class DeviceExchange(TenantModel):
    """History of replacing a broken camera by a new one (new MAC, same everything else)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="exchanges")
    old_mac = models.CharField(max_length=17)
    new_mac = models.CharField(max_length=17)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at"]
