"""REST API (`/api/v1/`) of embed settings per camera / group and of the generated group web site.

Same rules as the embed pages: every role of the operator reads (with the per-user camera limit of
congestion.selectors), admins write (403 otherwise), another operator's or a hidden camera / group is a
404. The public URL and the iframe snippet come back with the settings so an integration can place
the embed without the web page. Turning the site off (PUT enabled=false, or DELETE) deletes its URL;
turning it on again makes a new one. POST `…/embed/rotate/` gives the embed a new key (admins): the
old URL is a 404 at once; the answer carries the new URL and snippet. POST `…/embed/snippet/` (every
role) gives the URL and snippet for other options without saving them: the options are signed into
the URL (?o=), so a pasted snippet keeps them when the default changes.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from buildings.serializers import raise_as_drf
from congestion import api_schema as docs
from congestion.selectors import access_congestion_camera, access_group

from . import selectors, services
from .models import LinkMode, SizeMode, View
from .views import EMBED_DEFAULTS, SITE_DEFAULTS, snippet, snippet_url


class EmbedSettingSerializer(serializers.Serializer):
    show_visualization = serializers.BooleanField()
    show_prediction = serializers.BooleanField()
    initial_view = serializers.ChoiceField(choices=View.choices)
    size_mode = serializers.ChoiceField(choices=SizeMode.choices)
    auto_refresh = serializers.BooleanField()
    show_count = serializers.BooleanField()
    url = serializers.CharField(read_only=True, help_text="The public page the iframe shows.")
    snippet = serializers.CharField(read_only=True, help_text="The HTML to paste into a page.")


class GroupSiteSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    link_mode = serializers.ChoiceField(choices=LinkMode.choices, required=False, default=LinkMode.NONE)
    link_title = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    link_description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    link_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    show_visualization = serializers.BooleanField(required=False, default=True)
    show_prediction = serializers.BooleanField(required=False, default=True)
    initial_view = serializers.ChoiceField(choices=View.choices, required=False, default=View.VISUALIZATION)
    auto_refresh = serializers.BooleanField(required=False, default=True)
    url = serializers.CharField(read_only=True, allow_null=True, help_text="The site's public URL; null while off.")


def _views(defaults: bool) -> list[dict]:
    """At least one of the image and the prediction is shown, and the first view is one of them. With
    `defaults` (the site) an absent field is its default: both shown, the image first."""
    shown, hidden = docs.only(True), docs.only(False)
    need = ["show_prediction"] if defaults else []
    return [
        {"properties": {"show_visualization": shown, "show_prediction": shown}},
        {
            "properties": {
                "show_visualization": shown,
                "show_prediction": hidden,
                "initial_view": docs.only("visualization"),
            },
            "required": ["show_prediction"],
        },
        {
            "properties": {
                "show_visualization": hidden,
                "show_prediction": shown,
                "initial_view": docs.only("prediction"),
            },
            "required": ["show_visualization", "initial_view", *need],
        },
    ]


_EMBED = {
    "type": "object",
    "properties": {
        "show_visualization": docs.BOOL,
        "show_prediction": docs.BOOL,
        "initial_view": {"type": "string", **docs.only(*View.values)},
        "size_mode": {"type": "string", **docs.only(*SizeMode.values)},
        "auto_refresh": docs.BOOL,
        "show_count": docs.BOOL,
    },
    "required": ["show_visualization", "show_prediction", "initial_view", "size_mode", "auto_refresh", "show_count"],
    "anyOf": _views(defaults=False),
}
EMBED_REQUEST = docs.media("EmbedSettingChange", _EMBED)
_LINK_MODES = [m for m in LinkMode.values if m != LinkMode.NONE]
_SITE = {
    "type": "object",
    "properties": {
        "enabled": docs.BOOL,
        "name": docs.text(64, default=""),
        "link_mode": {"type": "string", **docs.only(*LinkMode.values), "default": LinkMode.NONE},
        "link_title": docs.text(64, default=""),
        "link_description": docs.text(200, default=""),
        "link_url": docs.text(500, default=""),
        "show_visualization": {**docs.BOOL, "default": True},
        "show_prediction": {**docs.BOOL, "default": True},
        "initial_view": {"type": "string", **docs.only(*View.values), "default": View.VISUALIZATION},
        "auto_refresh": {**docs.BOOL, "default": True},
    },
    "required": ["enabled"],
    "anyOf": [
        {"properties": {"enabled": docs.only(False)}, "description": "Off: the site and its URL are deleted."},
        {
            "properties": {"enabled": docs.only(True), "name": docs.name(64)},
            "required": ["name"],
            "allOf": [
                {"anyOf": _views(defaults=True)},
                {
                    "anyOf": [
                        {"properties": {"link_mode": docs.only(LinkMode.NONE)}},
                        {
                            "properties": {
                                "link_mode": docs.only(*_LINK_MODES),
                                "link_title": docs.name(64),
                                "link_url": {"type": "string", "maxLength": 500, "pattern": docs.HTTP_URL},
                            },
                            "required": ["link_mode", "link_title", "link_url"],
                        },
                    ],
                    "description": "A shown link needs its title and a full http:// or https:// address.",
                },
            ],
        },
    ],
}
SITE_REQUEST = docs.media("GroupSiteChange", _SITE)


def _require_admin(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied


def _embed_data(request, owner, setting) -> dict:
    values = {name: getattr(setting, name) if setting else EMBED_DEFAULTS[name] for name in EMBED_DEFAULTS}
    values["auto_refresh"] = setting.auto_refresh if setting else True
    options = selectors.options_of(setting)
    url = snippet_url(request, owner, options)
    return values | {"url": url, "snippet": snippet(url, options)}


def _snippet_post(request, owner) -> Response:
    """Any role: the HTML for these options, signed into its URL; nothing is saved."""
    body = EmbedSettingSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        options = services.snippet_options(**body.validated_data)
    except DjangoValidationError as exc:
        raise_as_drf(exc)
    url = snippet_url(request, owner, options)
    return Response({**body.validated_data, "url": url, "snippet": snippet(url, options)})


class CameraEmbedSnippetView(GenericAPIView):
    serializer_class = EmbedSettingSerializer
    any_role_may_write = True  # makes HTML, saves nothing

    @extend_schema(request=EMBED_REQUEST, responses=EmbedSettingSerializer)
    def post(self, request, congestion_camera_id):
        cc = access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)
        return _snippet_post(request, cc)


class GroupEmbedSnippetView(GenericAPIView):
    serializer_class = EmbedSettingSerializer
    any_role_may_write = True  # makes HTML, saves nothing

    @extend_schema(request=EMBED_REQUEST, responses=EmbedSettingSerializer)
    def post(self, request, group_id):
        return _snippet_post(request, access_group(operator=request.operator, user=request.user, pk=group_id))


def _embed_put(request, *, congestion_camera=None, group=None) -> Response:
    _require_admin(request)
    body = EmbedSettingSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        setting = services.embed_setting_save(
            user=request.user, congestion_camera=congestion_camera, group=group, **body.validated_data
        )
    except DjangoValidationError as exc:
        raise_as_drf(exc)
    return Response(_embed_data(request, congestion_camera or group, setting))


class CameraEmbedView(GenericAPIView):
    serializer_class = EmbedSettingSerializer

    def _cc(self, request, congestion_camera_id):
        return access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id)

    def get(self, request, congestion_camera_id):
        cc = self._cc(request, congestion_camera_id)
        return Response(_embed_data(request, cc, selectors.embed_setting_of(congestion_camera=cc)))

    @extend_schema(request=EMBED_REQUEST, responses=EmbedSettingSerializer)
    def put(self, request, congestion_camera_id):
        return _embed_put(request, congestion_camera=self._cc(request, congestion_camera_id))


class GroupEmbedView(GenericAPIView):
    serializer_class = EmbedSettingSerializer

    def get(self, request, group_id):
        group = access_group(operator=request.operator, user=request.user, pk=group_id)
        return Response(_embed_data(request, group, selectors.embed_setting_of(group=group)))

    @extend_schema(request=EMBED_REQUEST, responses=EmbedSettingSerializer)
    def put(self, request, group_id):
        return _embed_put(request, group=access_group(operator=request.operator, user=request.user, pk=group_id))


class CameraEmbedRotateView(GenericAPIView):
    serializer_class = EmbedSettingSerializer

    def post(self, request, congestion_camera_id):
        cc = access_congestion_camera(operator=request.operator, user=request.user, pk=congestion_camera_id, write=True)
        services.embed_key_rotate(user=request.user, congestion_camera=cc)
        return Response(_embed_data(request, cc, selectors.embed_setting_of(congestion_camera=cc)))


class GroupEmbedRotateView(GenericAPIView):
    serializer_class = EmbedSettingSerializer

    def post(self, request, group_id):
        group = access_group(operator=request.operator, user=request.user, pk=group_id, write=True)
        services.embed_key_rotate(user=request.user, group=group)
        return Response(_embed_data(request, group, selectors.embed_setting_of(group=group)))


def _site_data(request, group, site) -> dict:
    if site is None:
        values = {name: SITE_DEFAULTS[name] for name in SITE_DEFAULTS} | {"auto_refresh": True, "name": group.name}
        return values | {"enabled": False, "url": None}
    values = {name: getattr(site, name) for name in SITE_DEFAULTS if name != "enabled"}
    url = request.build_absolute_uri(reverse("embed_public:site", kwargs={"site_key": site.key}))
    return values | {"enabled": True, "url": url}


class GroupSiteView(GenericAPIView):
    serializer_class = GroupSiteSerializer

    def _group(self, request, group_id, write=False):
        return access_group(operator=request.operator, user=request.user, pk=group_id, write=write)

    def get(self, request, group_id):
        group = self._group(request, group_id)
        return Response(_site_data(request, group, selectors.site_of(group=group)))

    @extend_schema(request=SITE_REQUEST, responses=GroupSiteSerializer)
    def put(self, request, group_id):
        group = self._group(request, group_id, write=True)
        body = GroupSiteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            site = services.site_save(user=request.user, group=group, **body.validated_data)
        except DjangoValidationError as exc:
            raise_as_drf(exc)
        return Response(_site_data(request, group, site))

    def delete(self, request, group_id):
        group = self._group(request, group_id, write=True)
        services.site_save(user=request.user, group=group, enabled=False)
        return Response(status=status.HTTP_204_NO_CONTENT)
