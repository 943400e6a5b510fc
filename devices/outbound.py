"""The Django side of the outbound-connection policy (workers/netpolicy.py): the setting, and the
translated field errors forms and the API show for a refused stream URL or ONVIF host."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from workers import netpolicy


def configure_from_settings() -> netpolicy.Policy:
    policy = netpolicy.Policy.from_cidrs(getattr(settings, "CAMERA_ALLOWED_NETWORKS", []))
    netpolicy.configure(policy)
    return policy


def on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "CAMERA_ALLOWED_NETWORKS":
        configure_from_settings()


def refused_message(exc: netpolicy.Refused, *, field: str) -> str:
    """The translated field error for a refused stream URL (``field`` "rtsp_url") or ONVIF host."""
    if exc.code == "characters":
        return _(
            "The address must not contain spaces, line breaks, control characters or non-ASCII characters "
            "(percent-encode them)."
        )
    if exc.code == "port":
        return _("The port must be a number from 1 to 65535.")
    if exc.code == "address":
        return _(
            "This address is not allowed for cameras: it is a loopback, link-local, private or other "
            "non-public address. Use the camera's public address, or ask the portal's operator to allow "
            "the camera network."
        )
    if field == "rtsp_url":
        return _("Enter an RTSP URL that starts with rtsp:// or rtsps:// and names a host.")
    return _("Enter a host name or IP address only (no scheme, path or spaces).")


def clean_stream_url(value: str) -> str:
    """An RTSP URL a tenant typed, checked and re-serialised; else ValidationError (translated)."""
    try:
        return netpolicy.current().check_input(value, schemes=netpolicy.STREAM_SCHEMES)
    except netpolicy.Refused as exc:
        raise ValidationError(refused_message(exc, field="rtsp_url"), code=f"rtsp_url_{exc.code}") from None


def clean_onvif_host(value: str) -> str:
    """An ONVIF host a tenant typed (a name or an IP address), checked; else ValidationError (translated)."""
    try:
        return netpolicy.current().check_host_input(value)
    except netpolicy.Refused as exc:
        raise ValidationError(refused_message(exc, field="onvif_host"), code=f"onvif_host_{exc.code}") from None
