"""``{% motion_status camera %}``: how a camera's motion is detected, for the camera page."""

from django import template

from recording.conf import motion_max_gop_seconds
from recording.media_selectors import recording_settings_for

register = template.Library()


@register.inclusion_tag("recording/_motion_status.html")
def motion_status(camera) -> dict:
    """The caller got `camera` through an access function; this only reads its recording row."""
    return {"row": recording_settings_for(camera), "max_gop": f"{motion_max_gop_seconds():g}"}
