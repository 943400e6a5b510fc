"""REST API (`/api/v1/`) of congestion cameras, groups, alerts, business hours and latest counts.

Every role reads; admins write (tenants.permissions). Objects come through congestion.selectors:
another operator's camera, group or hours line in the URL is a 404.
"""

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from buildings.serializers import raise_as_drf

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


def _save(call):
    try:
        return call()
    except DjangoValidationError as exc:
        raise_as_drf(exc)


class CongestionCameraListView(GenericAPIView):
    serializer_class = CongestionCameraSerializer

    @extend_schema(operation_id="v1_congestion_cameras_list", responses=CongestionCameraSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.congestion_camera_list(operator=request.operator, user=request.user))
        return self.get_paginated_response(CongestionCameraSerializer(page, many=True).data)

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
        cc = _save(lambda: services.camera_add(user=request.user, operator=request.operator, camera=camera))
        return Response(CongestionCameraSerializer(cc).data, status=status.HTTP_201_CREATED)


class CongestionCameraView(GenericAPIView):
    serializer_class = CongestionCameraSerializer

    def get(self, request, congestion_camera_id):
        return Response(CongestionCameraSerializer(_camera(request, congestion_camera_id)).data)

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
        _save(lambda: services.camera_remove(user=request.user, congestion_camera=cc))
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

    def put(self, request, congestion_camera_id):
        return _alert_put(request, congestion_camera=_camera(request, congestion_camera_id, write=True))


class HoursListView(GenericAPIView):
    serializer_class = HoursRuleSerializer

    @extend_schema(operation_id="v1_congestion_cameras_hours_list", responses=HoursRuleSerializer(many=True))
    def get(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id)
        return Response(HoursRuleSerializer(selectors.hours_rule_list(congestion_camera=cc), many=True).data)

    def post(self, request, congestion_camera_id):
        cc = _camera(request, congestion_camera_id, write=True)
        body = HoursRuleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = _save(lambda: services.hours_rule_add(user=request.user, congestion_camera=cc, **body.validated_data))
        return Response(HoursRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class HoursRuleView(GenericAPIView):
    serializer_class = HoursRuleSerializer

    def get(self, request, congestion_camera_id, hours_rule_id):
        rule = selectors.access_hours_rule(
            congestion_camera=_camera(request, congestion_camera_id), user=request.user, pk=hours_rule_id
        )
        return Response(HoursRuleSerializer(rule).data)

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

    def post(self, request):
        body = GroupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        args = _group_args(request, body)
        group = _save(lambda: services.group_create(user=request.user, operator=request.operator, **args))
        return Response(_group_data(group), status=status.HTTP_201_CREATED)


class GroupView(GenericAPIView):
    serializer_class = GroupSerializer

    def get(self, request, group_id):
        return Response(_group_data(selectors.access_group(operator=request.operator, user=request.user, pk=group_id)))

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

    def put(self, request):
        body = AlertSenderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _save(
            lambda: services.alert_sender_set(
                user=request.user, operator=request.operator, from_email=body.validated_data["from_email"]
            )
        )
        return Response(AlertSenderSerializer(_sender_data(request)).data)
