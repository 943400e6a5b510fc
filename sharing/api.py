"""REST API of camera sharing (`/api/v1/shares/`, `/api/v1/share-audit/`).

List / read for every role of either side of a share; request, approve, decline, cancel and remove
for admins (the default permission class, then the services check which side may do what).
Shares come through `access_share`: a share between two other operators is a 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from buildings.serializers import ListField, TextField, raise_as_drf

from .models import CameraShare, ShareAuditEvent, ShareStatus
from .selectors import access_share, share_audit_list, share_list
from .services import share_approve, share_cancel, share_decline, share_remove, share_request


class ShareSerializer(serializers.ModelSerializer):
    share_id = serializers.IntegerField(source="pk", read_only=True)
    direction = serializers.SerializerMethodField(
        help_text=_('"outgoing": you own the camera; "incoming": shared to you.')
    )
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    owner = serializers.CharField(source="operator.name", read_only=True)
    owner_share_id = serializers.CharField(source="operator.share_id", read_only=True)
    receiver = serializers.CharField(source="receiver.name", read_only=True)
    receiver_share_id = serializers.CharField(source="receiver.share_id", read_only=True)

    class Meta:
        model = CameraShare
        fields = [
            "share_id",
            "direction",
            "status",
            "camera",
            "camera_name",
            "owner",
            "owner_share_id",
            "receiver",
            "receiver_share_id",
            "requested_at",
            "decided_at",
            "ended_at",
        ]
        read_only_fields = fields

    def get_direction(self, obj: CameraShare) -> str:
        return "outgoing" if obj.operator_id == self.context["request"].operator.pk else "incoming"


class ShareRequestSerializer(serializers.Serializer):
    receiver_share_id = TextField(
        max_length=40,
        schema={"pattern": r"[^\s-]"},  # besides the spaces and hyphens it is read without (normalize_share_id)
        help_text=_("The share ID of the operator to share with (on its account page)."),
    )
    # An empty list is refused by the service, with its own message: the schema says at least one.
    cameras = ListField(
        child=serializers.IntegerField(),
        schema={"minItems": 1},
        help_text=_("Ids of your own cameras to share."),
        allow_empty=True,
    )


class ShareAuditSerializer(serializers.ModelSerializer):
    share_id = serializers.IntegerField(read_only=True)
    owner = serializers.CharField(source="operator.name", read_only=True)
    receiver = serializers.CharField(source="receiver.name", read_only=True)

    class Meta:
        model = ShareAuditEvent
        fields = [
            "id",
            "share_id",
            "action",
            "at",
            "actor_name",
            "actor_operator_name",
            "camera_name",
            "owner",
            "receiver",
        ]
        read_only_fields = fields


class ShareSchema(AutoSchema):
    """POST answers the new shares as a plain list (one per camera), not as a page."""

    def _get_paginator(self):
        return None if getattr(self.view, "action", None) == "create" else super()._get_paginator()


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ShareStatus.values, description="Only shares in this state."),
            OpenApiParameter("direction", str, enum=["incoming", "outgoing"], description="Given or received."),
        ]
    ),
    create=extend_schema(request=ShareRequestSerializer, responses={201: ShareSerializer(many=True)}),
)
class ShareViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ShareSerializer
    schema = ShareSchema()
    lookup_url_kwarg = "share_id"
    lookup_value_regex = "[0-9]+"

    def get_serializer_class(self):
        return ShareRequestSerializer if self.action == "create" else ShareSerializer

    def get_queryset(self):
        operator = self.request.operator
        shares = share_list(operator=operator)
        params = self.request.query_params
        if params.get("status"):
            shares = shares.filter(status=params["status"])
        if params.get("direction") == "outgoing":
            shares = shares.filter(operator=operator)
        elif params.get("direction") == "incoming":
            shares = shares.filter(receiver=operator)
        return shares

    def get_object(self):
        return access_share(
            operator=self.request.operator,
            user=self.request.user,
            pk=self.kwargs[self.lookup_url_kwarg],
            write=self.request.method not in SAFE_METHODS,
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = ShareRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            shares = share_request(
                operator=request.operator,
                user=request.user,
                camera_ids=body.validated_data["cameras"],
                share_id=body.validated_data["receiver_share_id"],
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "share_id" in exc.error_dict:
                exc.error_dict["receiver_share_id"] = exc.error_dict.pop("share_id")
            raise_as_drf(exc)
        data = ShareSerializer(shares, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def _step(self, service) -> Response:
        share = self.get_object()
        try:
            share = service(operator=self.request.operator, user=self.request.user, share=share)
        except DjangoValidationError as exc:
            # Already decided, cancelled or removed: the share's state refuses it, not the request (409).
            raise_as_drf(exc, "status", conflicts={"share_state"})
        return Response(ShareSerializer(share, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, share_id: str) -> Response:
        """Receiver: accept a request; the camera appears in your lists."""
        return self._step(share_approve)

    @extend_schema(request=None, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, share_id: str) -> Response:
        """Receiver: refuse a request."""
        return self._step(share_decline)

    @extend_schema(request=None, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, share_id: str) -> Response:
        """Owner: end a request or a share; the receiver loses access at once."""
        return self._step(share_cancel)

    @extend_schema(request=None, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, share_id: str) -> Response:
        """Receiver: take a shared camera off your lists."""
        return self._step(share_remove)

    @extend_schema(responses=ShareAuditSerializer(many=True))
    @action(detail=True, methods=["get"])
    def audit(self, request: Request, share_id: str) -> Response:
        """The share's events (request, approve, decline, cancel, remove), newest first."""
        share = self.get_object()
        events = share_audit_list(operator=request.operator, share=share)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ShareAuditSerializer(page, many=True).data)


class ShareAuditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every share event of shares you own or receive, newest first."""

    serializer_class = ShareAuditSerializer

    def get_queryset(self):
        return share_audit_list(operator=self.request.operator)
