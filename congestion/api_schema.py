"""What the congestion and embed APIs accept, as OpenAPI request schemas (drf-spectacular, `/api/schema/`).

A serializer documents each field alone; these add what validation demands of fields together (the
alert's thresholds per step count, an hours line per kind, the views an embed shows, an uploaded JPEG),
so a request the schema calls valid is one validation accepts (tests/test_api_fuzz.py checks it). What
depends on stored state instead (a camera already added, hours that overlap saved ones) answers 409.
"""

from __future__ import annotations

import copy

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiRequest
from rest_framework import serializers

from .models import MAX_ALERT_RECIPIENTS, MAX_GROUP_CAMERAS, MAX_THRESHOLD, HoursRule, Mode
from .models import BackgroundPattern as Pattern

# A name or title: DRF trims it and refuses it blank or with a NUL character.
NON_BLANK = r"^\s*[^\s\x00][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"  # as portal.api_docs.TIME_PATTERN
MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
# What URLValidator(schemes=["http", "https"]) takes, narrowed to what a schema can say plainly.
HTTP_URL = r"^https?://([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}(/[^\s\x00]*)?$"


def name(max_length: int, **extra) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NON_BLANK, **extra}


def text(max_length: int, **extra) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL, **extra}


def enum(*values) -> dict:
    return {"enum": list(values)}


def only(*values) -> dict:
    """A field's values where one branch of a rule applies; kept inline (drf-spectacular's enum hook would name a
    component after each, as if it were the field's choice set)."""
    return {"allOf": [enum(*values)]}


def jpeg(max_bytes: int, description: str) -> dict:
    return {"type": "string", "format": "binary", "maxLength": max_bytes, "description": description}


class RawBody(serializers.Serializer):
    """A request body documented by its `raw_schema` (a component named after the class); never validates."""

    raw_schema: dict = {}


class RawBodyExtension(OpenApiSerializerExtension):
    target_class = RawBody
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        # A copy each time: drf-spectacular's enum hook rewrites the schema it is given in place (an inline
        # enum becomes a $ref), so a second schema in the same process would find refs to components it never
        # made (the fuzzer and the isolation walk both generate one).
        return copy.deepcopy(type(self.target).raw_schema)


def body(component: str, schema: dict) -> type[RawBody]:
    return type(f"{component}Serializer", (RawBody,), {"raw_schema": schema, "__module__": __name__})


def media(component: str, json_schema: dict, multipart: dict | None = None) -> dict:
    """The body as each parser takes it; a file travels only in multipart, as a part of type image/jpeg."""
    plain = body(component, json_schema)
    return {
        "application/json": plain,
        "application/x-www-form-urlencoded": plain,
        "multipart/form-data": plain if multipart is None else jpeg_part(f"{component}Upload", multipart),
    }


def jpeg_part(component: str, schema: dict) -> OpenApiRequest:
    return OpenApiRequest(body(component, schema), encoding={"image": {"contentType": "image/jpeg"}})


BOOL = {"type": "boolean"}

# ----------------------------------------------------------------------------- cameras

_CAMERA_PATCH = {
    "type": "object",
    "properties": {
        "display_name": name(64),
        "enabled": BOOL,
        "mode": {"type": "string", **enum(*Mode.values)},
        "level": {"type": "integer", "minimum": 1, "maximum": 5, "description": "Detailed mode only."},
        "background_pattern": {"type": "string", **enum(*Pattern.values)},
        "hours_enabled": BOOL,
    },
}

# ----------------------------------------------------------------------------- alerts

_ALERT = {
    "type": "object",
    "properties": {
        "steps": {"type": "integer", **only(2, 3)},
        "thresholds": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": MAX_THRESHOLD},
            "minItems": 1,
            "maxItems": 2,
            "description": "People from which each step above the first starts: steps - 1 of them, ascending.",
        },
        "image_enabled": {**BOOL, "default": False},
        "template_images": {
            "type": "array",
            "items": BOOL,
            "maxItems": 3,
            "description": "Per step: true = the built-in template image, false = no image. Uploads use the web page.",
        },
        "mail_enabled": {**BOOL, "default": False},
        "recipients": {
            "type": "array",
            "items": {"type": "string", "format": "email", "maxLength": 254},
            "maxItems": MAX_ALERT_RECIPIENTS,
            "default": [],
        },
    },
    "required": ["steps", "thresholds"],
    "allOf": [
        {
            "anyOf": [
                {"properties": {"steps": only(2)}},
                {"properties": {"steps": only(3), "thresholds": {"minItems": 2}}},
            ]
        },
        {
            "anyOf": [
                {"properties": {"mail_enabled": only(False)}},
                {"properties": {"recipients": {"minItems": 1}}, "required": ["recipients"]},
            ],
            "description": "Alert mail needs at least one recipient.",
        },
    ],
}


def _alert_image(with_file: bool) -> dict:
    ways = [
        {"properties": {"remove": only(True)}, "required": ["remove"]},
        {"properties": {"template": only(True)}, "required": ["template"]},
    ]
    properties = {
        "step": {"type": "integer", "minimum": 1, "maximum": 3, "description": "At most the alert's steps."},
        "template": {**BOOL, "default": False, "description": "Use the built-in template image."},
        "remove": {**BOOL, "default": False, "description": "No image for this step."},
    }
    if with_file:
        properties["image"] = jpeg(1024 * 1024, "A JPEG for this step, at most 1920×1280 pixels.")
        ways.append({"required": ["image"]})
    return {"type": "object", "properties": properties, "required": ["step"], "anyOf": ways}


ALERT_IMAGE = media("AlertImageChange", _alert_image(False), _alert_image(True))

# ----------------------------------------------------------------------------- images

_WHICH = {"type": "string", **enum("day", "night"), "default": "day"}
_BLUR = {"type": "integer", "minimum": 1, "maximum": 5, "default": 3, "description": "For source=capture."}
_CAPTURE = {
    "type": "object",
    "properties": {"which": _WHICH, "source": {"type": "string", **only("capture")}, "blur_level": _BLUR},
    "required": ["source"],
}
_CAPTURE_OR_UPLOAD = {
    "type": "object",
    "properties": {
        "which": _WHICH,
        "source": {"type": "string", **only("capture", "upload")},
        "blur_level": _BLUR,
        "image": jpeg(5 * 1024 * 1024, "For source=upload: a JPEG of at most 3840×2160 pixels."),
    },
    "required": ["source"],
    "anyOf": [
        {"properties": {"source": only("capture")}},
        {"properties": {"source": only("upload")}, "required": ["image"]},
    ],
}
BACKGROUND = media("BackgroundChange", _CAPTURE, _CAPTURE_OR_UPLOAD)
OFFHOURS = {
    "multipart/form-data": jpeg_part(
        "OffhoursImageChange",
        {
            "type": "object",
            "properties": {"image": jpeg(1024 * 1024, "A JPEG of at most 1920×1280 pixels.")},
            "required": ["image"],
        },
    )
}

# ----------------------------------------------------------------------------- business hours

_SPAN = {
    "properties": {"start": {"type": "string", "pattern": TIME}, "end": {"type": "string", "pattern": TIME}},
    "required": ["start", "end"],
    "description": "The closing time comes after the opening time on the 30-hour day that starts at 06:00.",
}
_REPEAT = {
    "anyOf": [
        {
            "properties": {"repeat": only("once", "yearly", "monthly"), "date": {"type": "string", "format": "date"}},
            "required": ["repeat", "date"],
        },
        {
            "properties": {
                "repeat": only("nth_weekday"),
                "nth": {"type": "integer", "minimum": 1, "maximum": 5},
                "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
            },
            "required": ["repeat", "nth", "weekday"],
        },
    ]
}
_BASE = {
    "properties": {"kind": only(HoursRule.Kind.BASE)},
    "allOf": [
        _SPAN,
        {
            "anyOf": [
                {"properties": {"weekdays": {"minItems": 1}}, "required": ["weekdays"]},
                {"properties": {"holiday": only(True)}, "required": ["holiday"]},
            ]
        },
    ],
}
_HOURS_LINE = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", **enum(*HoursRule.Kind.values)},
        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
        "holiday": {**BOOL, "default": False},
        "start": {"type": "string", "nullable": True, "pattern": TIME},
        "end": {"type": "string", "nullable": True, "pattern": TIME},
        "repeat": {"type": "string", **enum("", *HoursRule.Repeat.values), "default": ""},
        "date": {"type": "string", "format": "date", "nullable": True},
        "nth": {"type": "integer", "nullable": True},
        "weekday": {"type": "integer", "nullable": True},
    },
    "required": ["kind"],
    "anyOf": [
        _BASE,
        {"properties": {"kind": only(HoursRule.Kind.SPECIAL)}, "allOf": [_SPAN, _REPEAT]},
        {"properties": {"kind": only(HoursRule.Kind.CLOSED)}, "allOf": [_REPEAT]},
    ],
    "description": "Base hours: weekdays or public holidays; special hours and closed days: how the day repeats.",
}
_GROUP_HOURS = {
    "type": "object",
    "properties": {
        "hours_enabled": BOOL,
        "lines": {"type": "array", "items": _HOURS_LINE, "description": "Replace every camera's lines with these."},
    },
}

# ----------------------------------------------------------------------------- groups

_GROUP = {
    "type": "object",
    "properties": {
        "name": name(64),
        "cameras": {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": 1,
            "maxItems": MAX_GROUP_CAMERAS,
            "description": "Congestion cameras of this account.",
        },
        "default_camera": {"type": "integer", "description": "One of the cameras."},
    },
    "required": ["name", "cameras", "default_camera"],
}

_SENDER = {
    "type": "object",
    "properties": {
        "from_email": {
            "type": "string",
            "maxLength": 254,
            "anyOf": [{"format": "email"}, {"pattern": r"^\s*$"}],
            "description": "The operator's own sender address of alert mails; empty: the portal's DEFAULT_FROM_EMAIL.",
        }
    },
    "required": ["from_email"],
}

CAMERA_PATCH = media("CongestionCameraChange", _CAMERA_PATCH)
ALERT = media("AlertChange", _ALERT)
HOURS_LINE = media("HoursLine", _HOURS_LINE)
GROUP_HOURS = media("GroupHoursChange", _GROUP_HOURS)
GROUP = media("GroupChange", _GROUP)
SENDER = media("AlertSenderChange", _SENDER)
