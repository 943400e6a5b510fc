"""REST API (`/api/v1/`) of congestion cameras, groups, alerts, business hours and latest counts.

Every role reads; admins write (tenants.permissions). Objects come through congestion.selectors:
another operator's camera, group or hours line in the URL is a 404.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings

from buildings.serializers import Conflict, raise_as_drf
from workers.frames import SnapshotError

from . import api_schema as docs
from . import rules, selectors, services
from .models import BackgroundPattern, HoursRule, Mode


class CongestionCameraSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    camera = serializers.IntegerField(source="camera_id", read_only=True)
    display_name = serializers.CharField(max_length=64)
    enabled = serializers.BooleanField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    level = serializers.IntegerField(min_value=1, max_value=5)
    background_pattern = serializers.ChoiceField(choices=BackgroundPattern.choices)
    hours_enabled = serializers.BooleanField(
        required=False, help_text="Business hours on (outside them no analysis runs) or off (analysis all day)."
    )
    trouble = serializers.CharField(read_only=True)


class CameraAddSerializer(serializers.Serializer):
    camera = serializers.IntegerField(min_value=1)


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(allow_null=True)
    captured_at = serializers.DateTimeField(allow_null=True)
    analysed_at = serializers.DateTimeField(allow_null=True)
    open = serializers.BooleanField()
    step = serializers.IntegerField()
    label = serializers.CharField()


class AlertSerializer(serializers.Serializer):
    steps = serializers.IntegerField()
    thresholds = serializers.ListField(child=serializers.IntegerField(allow_null=True), max_length=2)
    image_enabled = serializers.BooleanField(default=False)
    images = serializers.ListField(child=serializers.CharField(allow_blank=True), read_only=True)
    template_images = serializers.ListField(
        child=serializers.BooleanField(),
        write_only=True,
        required=False,
        max_length=3,
        help_text="Per step: true = the built-in template image, false = no image. Uploads use the web page.",
    )
    mail_enabled = serializers.BooleanField(default=False)
    recipients = serializers.ListField(child=serializers.CharField(max_length=254), allow_empty=True, default=list)


class HoursRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=HoursRule.Kind.choices)
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=6), required=False)
    holiday = serializers.BooleanField(required=False, default=False)
    start = serializers.TimeField(required=False, allow_null=True)
    end = serializers.TimeField(required=False, allow_null=True)
    repeat = serializers.ChoiceField(choices=[("", ""), *HoursRule.Repeat.choices], required=False, default="")
    date = serializers.DateField(required=False, allow_null=True)
    nth = serializers.IntegerField(required=False, allow_null=True)
    weekday = serializers.IntegerField(required=False, allow_null=True)


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=64)
    cameras = serializers.ListField(child=serializers.IntegerField(), max_length=1000)
    default_camera = serializers.IntegerField()
    count = serializers.IntegerField(read_only=True)
    embed_key = serializers.CharField(read_only=True)


class AlertSenderSerializer(serializers.Serializer):
    from_email = serializers.CharField(
        max_length=254,
        allow_blank=True,
        help_text="The operator's own sender address of alert mails; empty: the portal's DEFAULT_FROM_EMAIL.",
    )
    effective_from_email = serializers.CharField(read_only=True)


def _camera(request, congestion_camera_id, write=False):
    return selectors.access_congestion_camera(
        operator=request.operator, user=request.user, pk=congestion_camera_id, write=write
    )


def _codes(exc: DjangoValidationError) -> set:
    errors = [e for es in exc.error_dict.values() for e in es] if hasattr(exc, "error_dict") else exc.error_list
    return {e.code for e in errors}


def _save(call, conflicts: frozenset = frozenset()):
    """The service's answer; its ValidationError as a 400, or a 409 when each of its refusals has one of the
    `conflicts` codes: refused by what is stored, not by the request (docs/development.md)."""
    try:
        return call()
    except DjangoValidationError as exc:
        if conflicts and _codes(exc) <= conflicts:
            raise Conflict({api_settings.NON_FIELD_ERRORS_KEY: exc.messages}) from None
        raise_as_drf(exc)


class CongestionCameraListView(GenericAPIView):
    serializer_class = CongestionCameraSerializer

    @extend_schema(operation_id="v1_congestion_cameras_list", responses=CongestionCameraSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.congestion_camera_list(operator=request.operator, user=request.user))
        return self.get_paginated_response(CongestionCameraSerializer(page, many=True).data)

    @extend_schema(request=CameraAddSerializer, responses={201: CongestionCameraSerializer})
    def post(self, request):
        body = CameraAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            camera = selectors.access_addable_camera(
                operator=request.operator, user=request.user, pk=body.validated_data["camera"]
            )
        except Http404:  # a foreign, shared, unlicensed or already added camera: one answer, no leak
            message = _("No camera of yours with this id can be added.")
            raise serializers.ValidationError({"camera": [message]}) from None
        cc = _save(
            lambda: services.camera_add(user=request.user, operator=request.operator, camera=camera),
            conflicts=services.CAMERA_ADD_CONFLICTS,
        )
        # The warning the page's confirmation step shows (camera_add_confirm.html), word for word.
        registered = selectors.congestion_camera_list(operator=request.operator).count()
        licensed = selectors.option_licenses(operator=request.operator)
        warning = None
        if registered > licensed:
            warning = _(
                "After adding it, %(n)s cameras are registered but you hold %(licensed)s congestion option "
                "licenses: analysis will stop for ALL cameras until you remove one or get more licenses."
            ) % {"n": registered, "licensed": licensed}
        return Response(CongestionCameraSerializer(cc).data | {"warning": warning}, status=status.HTTP_201_CREATED)


class CongestionCameraView(GenericAPIView):
    serializer_class = CongestionCameraSerializer

    def get(self, request, congestion_camera_id):
        return Response(CongestionCameraSerializer(_camera(request, congestion_camera_id)).data)

    @extend_schema(request=docs.CAMERA_PATCH, responses=CongestionCameraSerializer)
    def patch(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        body = CongestionCameraSerializer(cc, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = {
            f: body.validated_data.get(f, getattr(cc, f))
            for f in ("display_name", "mode", "level", "background_pattern", "enabled")
        }
        hours_enabled = body.validated_data.get("hours_enabled")

        @transaction.atomic
        def update():
            updated = services.camera_update(user=request.user, congestion_camera=cc, **data)
            if hours_enabled is not None:
                services.hours_enabled_set(user=request.user, congestion_camera=updated, enabled=hours_enabled)
            return updated

        cc = _save(update)
        return Response(CongestionCameraSerializer(cc).data)

    def delete(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        _save(lambda: services.camera_remove(user=request.user, congestion_camera=cc), conflicts={"default_of_group"})
        return Response(status=status.HTTP_204_NO_CONTENT)


class CongestionCountView(GenericAPIView):
    serializer_class = CountSerializer

    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        public = selectors.public_image_of(congestion_camera=cc)
        setting = selectors.alert_setting_for(congestion_camera=cc)
        count = public.count if public else None
        step = rules.step_for(count, setting.thresholds) if setting else 1
        data = {
            "count": count,
            "captured_at": public.captured_at if public else None,
            "analysed_at": public.analysed_at if public else None,
            "open": selectors.is_open_now(congestion_camera=cc),
            "step": step,
            "label": rules.status_label(step, setting.steps) if setting else "",
        }
        return Response(CountSerializer(data).data)


def _alert_get(setting):
    if setting is None:
        return Response(
            {
                "steps": 2,
                "thresholds": [],
                "image_enabled": False,
                "images": [],
                "mail_enabled": False,
                "recipients": [],
            }
        )
    return Response(AlertSerializer(setting).data)


def _alert_put(request, **owner):
    body = AlertSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    templates = data.pop("template_images", None)
    images = [None, None, None] if templates is None else ["template" if t else "" for t in templates]
    setting = _save(lambda: services.alert_update(user=request.user, images=images, **owner, **data))
    return Response(AlertSerializer(setting).data)


class CameraAlertView(GenericAPIView):
    serializer_class = AlertSerializer

    def get(self, request, congestion_camera_id):
        return _alert_get(selectors.alert_setting_for(congestion_camera=_camera(request, congestion_camera_id)))

    @extend_schema(request=docs.ALERT, responses=AlertSerializer)
    def put(self, request, congestion_camera_id):
        return _alert_put(request, congestion_camera=_camera(request, congestion_camera_id, write=True))


class HoursListView(GenericAPIView):
    serializer_class = HoursRuleSerializer
    pagination_class = None  # the whole list at once, as the schema says

    @extend_schema(operation_id="v1_congestion_cameras_hours_list", responses=HoursRuleSerializer(many=True))
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        return Response(HoursRuleSerializer(selectors.hours_rule_list(congestion_camera=cc), many=True).data)

    @extend_schema(request=docs.HOURS_LINE, responses={201: HoursRuleSerializer})
    def post(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        body = HoursRuleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Hours that overlap saved ones are refused with the code hours_taken: a 409 (raise_as_drf).
        rule = _save(lambda: services.hours_rule_add(user=request.user, congestion_camera=cc, **body.validated_data))
        return Response(HoursRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class HoursRuleView(GenericAPIView):
    serializer_class = HoursRuleSerializer

    def get(self, request, congestion_camera_id, hours_rule_id):
        rule = selectors.access_hours_rule(
            congestion_camera=_camera(request, congestion_camera_id), user=request.user, pk=hours_rule_id
        )
        return Response(HoursRuleSerializer(rule).data)

    @extend_schema(request=docs.HOURS_LINE, responses=HoursRuleSerializer)
    def put(self, request, congestion_camera_id, hours_rule_id):
        """Change the line in place (the same checks as adding it)."""
        cc = _camera(request, congestion_camera_id, write=True)
        rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
        body = HoursRuleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = _save(lambda: services.hours_rule_update(user=request.user, rule=rule, **body.validated_data))
        return Response(HoursRuleSerializer(rule).data)

    def delete(self, request, congestion_camera_id, hours_rule_id):
        cc = _camera(request, congestion_camera_id, write=True)
        rule = selectors.access_hours_rule(congestion_camera=cc, user=request.user, pk=hours_rule_id, write=True)
        services.hours_rule_delete(user=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HoursCalendarSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    open = serializers.BooleanField()
    spans = serializers.ListField(child=serializers.ListField(child=serializers.TimeField()))
    reason = serializers.CharField(help_text="closed, special, base, none (no line that day) or always (no line)")
    holiday = serializers.BooleanField()


def _calendar_days(request, cc) -> list:
    raw = request.query_params.get("month") or timezone.localdate().strftime("%Y-%m")
    try:
        year, month = (int(p) for p in raw.split("-"))
        if not 2000 <= year <= 2100:
            raise ValueError
        date(year, month, 1)
    except ValueError:
        raise serializers.ValidationError({"month": [_("Enter a month as YYYY-MM.")]}) from None
    lines = [r.as_line() for r in selectors.hours_rule_list(congestion_camera=cc)] if cc.hours_enabled else []
    return [d for week in rules.month_calendar(lines, year, month) for d in week if d]


class HoursCalendarView(GenericAPIView):
    """Open and closed business days of one month (?month=YYYY-MM, this month by default)."""

    serializer_class = HoursCalendarSerializer
    pagination_class = None  # the whole list at once, as the schema says

    @extend_schema(operation_id="v1_congestion_cameras_hours_calendar", responses=HoursCalendarSerializer(many=True))
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        return Response(HoursCalendarSerializer(_calendar_days(request, cc), many=True).data)


class GroupHoursSerializer(serializers.Serializer):
    hours_enabled = serializers.BooleanField(required=False)
    lines = HoursRuleSerializer(many=True, required=False, help_text="Replace every camera's lines with these.")
    differing_cameras = serializers.ListField(child=serializers.IntegerField(), read_only=True)


def _group_hours_data(group) -> dict:
    reference = group.default_camera
    return {
        "hours_enabled": reference.hours_enabled,
        "lines": HoursRuleSerializer(selectors.hours_rule_list(congestion_camera=reference), many=True).data,
        "differing_cameras": [c.pk for c in selectors.cameras_with_other_hours(group=group)],
    }


class GroupHoursView(GenericAPIView):
    """The business hours of all of a group's cameras at once: those of its default camera."""

    serializer_class = GroupHoursSerializer

    def get(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        return Response(_group_hours_data(group))

    @extend_schema(request=docs.GROUP_HOURS, responses=GroupHoursSerializer)
    def put(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        body = GroupHoursSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = body.validated_data.get("lines")
        _save(
            lambda: services.group_hours_set(
                user=request.user,
                group=group,
                enabled=body.validated_data.get("hours_enabled"),
                lines=[dict(line) for line in lines] if lines is not None else None,
            )
        )
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        return Response(_group_hours_data(group))


def _group_data(group) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "cameras": [c.pk for c in group.cameras.all()],
        "default_camera": group.default_camera_id,
        "count": selectors.group_count(group=group),
        "embed_key": group.embed_key,
    }


def _group_args(request, body) -> dict:
    mine = {c.pk: c for c in selectors.congestion_camera_list(operator=request.operator, user=request.user)}
    unknown = [pk for pk in body.validated_data["cameras"] if pk not in mine]
    if unknown or body.validated_data["default_camera"] not in mine:
        raise serializers.ValidationError({"cameras": [_("Choose cameras of this account.")]})
    return {
        "name": body.validated_data["name"],
        "cameras": [mine[pk] for pk in dict.fromkeys(body.validated_data["cameras"])],
        "default_camera": mine[body.validated_data["default_camera"]],
    }


class GroupListView(GenericAPIView):
    serializer_class = GroupSerializer

    @extend_schema(operation_id="v1_congestion_groups_list", responses=GroupSerializer(many=True))
    def get(self, request):
        groups = selectors.groups_with_status(selectors.group_list(operator=request.operator, user=request.user))
        page = self.paginate_queryset(groups)
        return self.get_paginated_response([_group_data(g) for g in page])

    @extend_schema(request=docs.GROUP, responses={201: GroupSerializer})
    def post(self, request):
        body = GroupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        args = _group_args(request, body)
        group = _save(
            lambda: services.group_create(user=request.user, operator=request.operator, **args),
            conflicts={"groups_full"},
        )
        return Response(_group_data(group), status=status.HTTP_201_CREATED)


class GroupView(GenericAPIView):
    serializer_class = GroupSerializer

    def get(self, request, group_id):
        return Response(_group_data(selectors.access_group(operator=request.operator, user=request.user, pk=group_id)))

    @extend_schema(request=docs.GROUP, responses=GroupSerializer)
    def put(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        body = GroupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        args = _group_args(request, body)
        group = _save(lambda: services.group_update(user=request.user, group=group, **args))
        return Response(_group_data(group))

    def delete(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        services.group_delete(user=request.user, group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupAlertView(GenericAPIView):
    serializer_class = AlertSerializer

    def get(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        return _alert_get(selectors.alert_setting_for(group=group))

    @extend_schema(request=docs.ALERT, responses=AlertSerializer)
    def put(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        return _alert_put(request, group=group)


def _sender_data(request) -> dict:
    return {
        "from_email": selectors.alert_sender_of(operator=request.operator),
        "effective_from_email": selectors.alert_from_email(operator_id=request.operator.pk),
    }


class AlertSenderView(GenericAPIView):
    """The sender address of this operator's congestion alert mails (admins write)."""

    serializer_class = AlertSenderSerializer

    def get(self, request):
        return Response(AlertSenderSerializer(_sender_data(request)).data)

    @extend_schema(request=docs.SENDER, responses=AlertSenderSerializer)
    def put(self, request):
        body = AlertSenderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _save(
            lambda: services.alert_sender_set(
                user=request.user, operator=request.operator, from_email=body.validated_data["from_email"]
            )
        )
        return Response(AlertSenderSerializer(_sender_data(request)).data)


# ----------------------------------------------------------------------------- images (issue 17.14)


def _jpeg_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


def _upload(request, name: str, **limits) -> bytes | None:
    upload = request.FILES.get(name)
    if upload is None:
        return None
    return _save(lambda: services.jpeg_upload_read(upload, **limits))


class BackgroundSerializer(serializers.Serializer):
    which = serializers.ChoiceField(choices=[("day", "day"), ("night", "night")], default="day")
    source = serializers.ChoiceField(choices=[("capture", "capture"), ("upload", "upload")])
    blur_level = serializers.IntegerField(min_value=1, max_value=5, default=3)
    image = serializers.FileField(required=False, help_text="JPEG (source=upload).")


class BackgroundView(GenericAPIView):
    """Register the day (or fixed) or night background: capture the camera's current image blurred at
    blur_level, or upload a JPEG (multipart). People in it are never masked."""

    serializer_class = BackgroundSerializer

    @extend_schema(request=docs.BACKGROUND, responses=CongestionCameraSerializer)
    def post(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        body = BackgroundSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["source"] == "upload":
            jpeg = _upload(request, "image", max_size=services.BACKGROUND_MAX, max_bytes=services.BACKGROUND_MAX_BYTES)
            if jpeg is None:
                raise serializers.ValidationError({"image": [_("Choose a JPEG file to upload.")]})
            blur = None
        else:
            try:
                jpeg = services.grab_frame(cc.camera)
            except SnapshotError:  # a camera offline now: the request itself is fine
                message = _("The camera did not answer. Check that it is online, or upload an image.")
                raise Conflict({"source": [message]}) from None
            blur = data["blur_level"]
        cc = _save(
            lambda: services.background_set(
                user=request.user, congestion_camera=cc, which=data["which"], jpeg=jpeg, blur_level=blur
            )
        )
        return Response(CongestionCameraSerializer(cc).data)


class OffhoursImageView(GenericAPIView):
    """The off-hours image: GET it, PUT a JPEG (multipart "image"), DELETE to go back to the default."""

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        return _jpeg_response(services.read_image(cc.offhours_image) or _static("offhours.jpg"))

    @extend_schema(request=docs.OFFHOURS, responses={204: None})
    def put(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        jpeg = _upload(request, "image")
        if jpeg is None:
            raise serializers.ValidationError({"image": [_("Choose a JPEG file, or the default image.")]})
        _save(lambda: services.offhours_image_set(user=request.user, congestion_camera=cc, jpeg=jpeg))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={204: None})
    def delete(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        services.offhours_image_set(user=request.user, congestion_camera=cc, jpeg=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _static(name: str) -> bytes:
    from pathlib import Path

    return (Path(__file__).resolve().parent / "static" / "congestion" / name).read_bytes()


class AlertImageSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=1, max_value=3)
    image = serializers.FileField(required=False, help_text="A JPEG for this step (multipart).")
    template = serializers.BooleanField(default=False, help_text="Use the built-in template image.")
    remove = serializers.BooleanField(default=False, help_text="No image for this step.")


def _alert_image_put(request, **owner):
    setting = selectors.alert_setting_for(**owner)
    if setting is None:  # nothing stored to add an image to yet
        raise Conflict({"step": [_("Save the congestion alert settings first.")]})
    body = AlertImageSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    if data["step"] > setting.steps:  # the stored alert's steps
        raise Conflict({"step": [_("This alert has fewer steps.")]})
    choice: str | bytes | None
    if data["remove"]:
        choice = ""
    elif data["template"]:
        choice = "template"
    else:
        choice = _upload(request, "image")
        if choice is None:
            raise serializers.ValidationError({"image": [_("Choose a JPEG file, the template or no image.")]})
    images: list[str | bytes | None] = [None] * setting.steps
    images[data["step"] - 1] = choice
    setting = _save(
        lambda: services.alert_update(
            user=request.user,
            steps=setting.steps,
            thresholds=list(setting.thresholds),
            image_enabled=setting.image_enabled,
            images=images,
            mail_enabled=setting.mail_enabled,
            recipients=list(setting.recipients),
            **owner,
        )
    )
    return Response(AlertSerializer(setting).data)


class CameraAlertImageView(GenericAPIView):
    """One step's alert image of a camera: upload a JPEG, the template, or none."""

    serializer_class = AlertImageSerializer

    @extend_schema(request=docs.ALERT_IMAGE, responses=AlertSerializer)
    def post(self, request, congestion_camera_id):
        return _alert_image_put(request, congestion_camera=_camera(request, congestion_camera_id, write=True))


class GroupAlertImageView(GenericAPIView):
    serializer_class = AlertImageSerializer

    @extend_schema(request=docs.ALERT_IMAGE, responses=AlertSerializer)
    def post(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        return _alert_image_put(request, group=group)


# ----------------------------------------------------------------------------- prediction, history, CSV


class PredictionSerializer(serializers.Serializer):
    enough_data = serializers.BooleanField()
    days = serializers.IntegerField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    series = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="7 weekdays (0 = Monday) × 96 slots of 15 minutes: average people.",
    )


def _series(averages) -> list[list[float]]:
    return [[round(averages.get((wd, slot), 0.0), 2) for slot in range(rules.SLOTS_PER_DAY)] for wd in range(7)]


class PredictionView(GenericAPIView):
    """The camera's prediction; POST (admins) recalculates it now."""

    serializer_class = PredictionSerializer

    def _data(self, cc):
        averages = selectors.predictions_of(congestion_camera=cc)
        return {
            "enough_data": bool(averages),
            "days": cc.prediction_days,
            "computed_at": cc.prediction_computed_at,
            "series": _series(averages),
        }

    def get(self, request, congestion_camera_id):
        return Response(PredictionSerializer(self._data(_camera(request, congestion_camera_id))).data)

    def post(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        services.prediction_recompute(congestion_camera=cc)
        cc = _camera(request, congestion_camera_id)
        return Response(PredictionSerializer(self._data(cc)).data)


class GroupPredictionView(GenericAPIView):
    serializer_class = PredictionSerializer

    def get(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        per_camera = [selectors.predictions_of(congestion_camera=c) for c in group.cameras.all()]
        enough = bool(per_camera) and all(per_camera)
        data = {
            "enough_data": enough,
            "days": None,
            "computed_at": None,
            "series": _series(rules.sum_predictions(per_camera) if enough else {}),
        }
        return Response(PredictionSerializer(data).data)


class HistoryRowSerializer(serializers.Serializer):
    t = serializers.CharField(help_text="Start of the 15 minutes, MM-DD HH:MM local time.")
    point = serializers.IntegerField(allow_null=True, help_text="The count at :00 / :15 / :30 / :45.")
    avg = serializers.FloatField()
    max = serializers.IntegerField()
    min = serializers.IntegerField()


def _period(request):
    raw_day, raw_days = request.query_params.get("day"), request.query_params.get("days", "1")
    errors = {}
    try:
        day = date.fromisoformat(raw_day) if raw_day else timezone.localdate()
    except ValueError:
        errors["day"] = [_("Enter a date as YYYY-MM-DD.")]
    if not (raw_days.isdigit() and 1 <= int(raw_days) <= 7):
        errors["days"] = [_("Enter 1 to 7 days.")]
    if errors:
        raise serializers.ValidationError(errors)
    start, _end = selectors.day_range(day)
    return start, start + timedelta(days=int(raw_days))


class HistoryView(GenericAPIView):
    """Per 15 minutes from ?day= (today) for ?days= (1–7): the count at the quarter and avg / max / min."""

    serializer_class = HistoryRowSerializer
    pagination_class = None  # a plain list, as the schema says

    @extend_schema(operation_id="v1_congestion_cameras_history", responses=HistoryRowSerializer(many=True))
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        start, end = _period(request)
        return Response(rules.history_rows(selectors.samples_for(congestion_camera=cc, start=start, end=end)))


class GroupHistoryView(GenericAPIView):
    """The group's count (its cameras summed per minute), as for one camera."""

    serializer_class = HistoryRowSerializer
    pagination_class = None  # a plain list, as the schema says

    @extend_schema(operation_id="v1_congestion_groups_history", responses=HistoryRowSerializer(many=True))
    def get(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        start, end = _period(request)
        return Response(rules.history_rows(selectors.group_samples_for(group=group, start=start, end=end)))


def _csv_month(request) -> tuple[int, int]:
    raw = request.query_params.get("month", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        date(year, month, 1)
    except ValueError:
        raise serializers.ValidationError({"month": [_("Enter a month as YYYY-MM.")]}) from None
    return year, month


def _zip(cameras, year, month, name) -> HttpResponse:
    data = services.csv_zip(congestion_cameras=cameras, year=year, month=month, today=timezone.localdate())
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}-{year:04d}{month:02d}.zip"'
    return response


_ZIP_SCHEMA = extend_schema(
    parameters=[
        OpenApiParameter("month", {"type": "string", "pattern": docs.MONTH}, required=True, description="YYYY-MM")
    ],
    responses={(200, "application/zip"): OpenApiTypes.BINARY},
)


class CameraCsvView(GenericAPIView):
    """The month's CSV (?month=YYYY-MM) of the camera as a ZIP, as the history page downloads it."""

    @_ZIP_SCHEMA
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        year, month = _csv_month(request)
        return _zip([cc], year, month, f"congestion-{cc.pk}")


class GroupCsvView(GenericAPIView):
    @_ZIP_SCHEMA
    def get(self, request, group_id):
        group = selectors.access_group(operator=request.operator, user=request.user, pk=group_id)
        year, month = _csv_month(request)
        return _zip(
            list(group.cameras.select_related("operator", "camera")), year, month, f"congestion-group-{group.pk}"
        )


class CsvAllView(GenericAPIView):
    """The month's CSV of every congestion camera the caller sees, one file each, in one ZIP."""

    @_ZIP_SCHEMA
    def get(self, request):
        year, month = _csv_month(request)
        cameras = list(
            selectors.congestion_camera_list(operator=request.operator, user=request.user).select_related("operator")
        )
        return _zip(cameras, year, month, "congestion-all")


class GettingStartedSerializer(serializers.Serializer):
    camera = serializers.IntegerField(allow_null=True, help_text="The congestion camera the next steps are about.")
    camera_added = serializers.BooleanField()
    background_set = serializers.BooleanField()
    first_image = serializers.BooleanField()
    done = serializers.BooleanField()


class GettingStartedView(GenericAPIView):
    """The guided start of an account new to congestion: which of its three steps are done."""

    serializer_class = GettingStartedSerializer

    def get(self, request):
        guide = selectors.getting_started(operator=request.operator, user=request.user)
        camera = guide["camera"]
        data = {"camera": camera.pk if camera else None, **guide["steps"], "done": guide["done"]}
        return Response(GettingStartedSerializer(data).data)
