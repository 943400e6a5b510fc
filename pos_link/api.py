"""REST API of the POS link (`/api/v1/pos/links/`, `/api/v1/pos/transactions/`).

Links: list / retrieve for every role; create (Smaregi: contract ID + access token (API受信 Ver.2)
or client ID / secret (Platform API) + terminal, checked with Smaregi first; Ubiregi: a connected
account + one of its store accounts), update (camera, terminal) and
delete for admins. Tokens are write-only: responses only say whether one is set. Transactions
are read-only, filtered by camera, kind and a search over receipt / register / staff.
Objects come through the selectors: another operator's id is a 404.
"""

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from buildings.serializers import OperatorScopedPKField, TextField
from devices.selectors import camera_list
from portal.errors import Conflict, is_conflict
from portal.ids import parse_id

from . import services
from .models import Interface, PosLink, PosTransaction, Provider, TransactionKind
from .selectors import access_link, access_transaction, connection_list, link_list, transaction_list
from .thumbnails import thumbnail_for, thumbnails_for


def _api_error(exc: ValidationError) -> ApiValidationError | Conflict:
    if hasattr(exc, "error_dict"):
        detail = {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    else:
        detail = {"non_field_errors": exc.messages}
    return Conflict(detail) if is_conflict(exc, LINK_CONFLICTS) else ApiValidationError(detail)


def _cameras(*, operator):
    return camera_list(operator=operator)


def _ubiregi_connections(*, operator):
    return connection_list(operator=operator, provider=Provider.UBIREGI)


class PosLinkSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="connection.provider", read_only=True)
    contract_id = serializers.CharField(source="connection.contract_id", read_only=True)
    interface = serializers.CharField(source="connection.interface", read_only=True)
    has_token = serializers.SerializerMethodField()
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = PosLink
        fields = [
            "id", "provider", "interface", "contract_id", "has_token", "terminal_id", "camera", "camera_name", "status",
            "status_label", "status_detail", "last_success_at", "last_attempt_at", "next_attempt_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_token(self, obj: PosLink) -> bool:
        return bool(obj.connection.access_token or obj.connection.client_secret)


# What pos_link.services checks with its own message, said in the request schema. The services strip the
# values; the schema says printable ASCII, which every terminal and contract ID is.
TERMINAL_SCHEMA = {"pattern": r"^[ -~]*[!-~][ -~]*$"}  # not blank, printable (services._clean_terminal)
CONTRACT_SCHEMA = {"pattern": r"^[ -.0-~]*[!-.0-~][ -.0-~]*$"}  # as a terminal ID, and no "/"
SECRET_SCHEMA = {"pattern": r"\S"}  # stripped, then not blank
# Refusals by what is stored (a camera without the POS option; a terminal already linked is `_taken`): 409.
LINK_CONFLICTS = frozenset({"no_pos_option"})


class PosLinkCreateSerializer(serializers.Serializer):
    """Validates every provider's request; `POS_LINK_CREATE_SCHEMA` documents what each one needs."""

    provider = serializers.ChoiceField(choices=Provider.choices)
    terminal_id = TextField(max_length=32, schema=TERMINAL_SCHEMA)
    camera = OperatorScopedPKField(selector=_cameras)
    contract_id = TextField(max_length=64, schema=CONTRACT_SCHEMA, required=False, help_text=_("Smaregi only."))
    interface = serializers.ChoiceField(
        choices=[Interface.SMAREGI_ACCESS, Interface.SMAREGI_PLATFORM],
        default=Interface.SMAREGI_ACCESS,
        help_text=_("Smaregi only: smaregi_access (API受信 Ver.2) or smaregi_platform (Platform API)."),
    )
    access_token = TextField(
        max_length=512,
        schema=SECRET_SCHEMA,
        required=False,
        write_only=True,
        help_text=_("Smaregi API受信 Ver.2 only. Never returned."),
    )
    client_id = TextField(
        max_length=100, schema=SECRET_SCHEMA, required=False, help_text=_("Smaregi Platform API only.")
    )
    client_secret = TextField(
        max_length=512,
        schema=SECRET_SCHEMA,
        required=False,
        write_only=True,
        help_text=_("Smaregi Platform API only. Never returned."),
    )
    connection = OperatorScopedPKField(
        selector=_ubiregi_connections, required=False, help_text=_("Ubiregi only: a connected account (its id).")
    )


class _Link(serializers.Serializer):
    terminal_id = TextField(max_length=32, schema=TERMINAL_SCHEMA)
    camera = serializers.IntegerField(help_text=_("One of your cameras holding the POS link option (its id)."))


def _one_of(*values: str, **kwargs) -> TextField:
    return TextField(schema={"enum": list(values)}, **kwargs)


class SmaregiAccessLink(_Link):
    """Smaregi, API受信 Ver.2: the contract ID and the access token."""

    provider = _one_of(Provider.SMAREGI)
    interface = _one_of(Interface.SMAREGI_ACCESS, required=False)  # the default interface
    contract_id = TextField(max_length=64, schema=CONTRACT_SCHEMA)
    access_token = TextField(max_length=512, schema=SECRET_SCHEMA, write_only=True)


class SmaregiPlatformLink(_Link):
    """Smaregi, Platform API: the contract ID and the app's client ID and secret."""

    provider = _one_of(Provider.SMAREGI)
    interface = _one_of(Interface.SMAREGI_PLATFORM)
    contract_id = TextField(max_length=64, schema=CONTRACT_SCHEMA)
    client_id = TextField(max_length=100, schema=SECRET_SCHEMA)
    client_secret = TextField(max_length=512, schema=SECRET_SCHEMA, write_only=True)


class UbiregiLink(_Link):
    """Ubiregi: one of your connected accounts."""

    provider = _one_of(Provider.UBIREGI)
    connection = serializers.IntegerField(help_text=_("Ubiregi only: a connected account (its id)."))


# The request of POST links/: one of the three (PosLinkCreateSerializer checks each the same way).
POS_LINK_CREATE_SCHEMA = PolymorphicProxySerializer(
    component_name="PosLinkCreate",
    serializers=[SmaregiAccessLink, SmaregiPlatformLink, UbiregiLink],
    resource_type_field_name=None,
)


class PosLinkUpdateSerializer(serializers.Serializer):
    terminal_id = TextField(max_length=32, schema=TERMINAL_SCHEMA, required=False)
    camera = OperatorScopedPKField(selector=_cameras, required=False)


class PosTransactionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = PosTransaction
        fields = [
            "id", "camera", "link", "provider", "contract_id", "provider_transaction_id", "occurred_at", "kind",
            "server_at", "kind_label", "receipt_no", "register_no", "staff", "total", "deposit", "change",
            "entered_at", "payment_method", "thumbnail_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_thumbnail_url(self, obj: PosTransaction) -> str | None:
        page = self.context.get("thumbnails")  # a list's page, worked out at once (thumbnails_for)
        url = page[obj.pk] if page is not None and obj.pk in page else thumbnail_for(obj)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if url and request is not None else url


@extend_schema_view(
    create=extend_schema(request=POS_LINK_CREATE_SCHEMA, responses={201: PosLinkSerializer}),
    partial_update=extend_schema(request=PosLinkUpdateSerializer, responses=PosLinkSerializer),
    update=extend_schema(request=PosLinkUpdateSerializer, responses=PosLinkSerializer),
)
class PosLinkViewSet(viewsets.ModelViewSet):
    serializer_class = PosLinkSerializer
    lookup_url_kwarg = "link_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        return link_list(operator=self.request.operator)

    def get_object(self):
        return access_link(
            operator=self.request.operator,
            user=self.request.user,
            pk=self.kwargs["link_id"],
            write=self.request.method not in SAFE_METHODS,
        )

    def create(self, request, *args, **kwargs):
        data = PosLinkCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            if v["provider"] == Provider.SMAREGI:
                link = services.smaregi_link_create(
                    operator=request.operator, user=request.user, contract_id=v.get("contract_id", ""),
                    interface=v["interface"], access_token=v.get("access_token", ""),
                    client_id=v.get("client_id", ""), client_secret=v.get("client_secret", ""),
                    terminal_id=v["terminal_id"], camera=v["camera"],
                )  # fmt: skip
            else:
                if "connection" not in v:
                    raise ApiValidationError({"connection": [_("Choose a connected Ubiregi account.")]})
                link = services.ubiregi_link_create(
                    operator=request.operator, user=request.user, connection=v["connection"],
                    terminal_id=v["terminal_id"], camera=v["camera"],
                )  # fmt: skip
        except ValidationError as exc:
            raise _api_error(exc) from exc
        return Response(PosLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        link = self.get_object()
        data = PosLinkUpdateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            link = services.link_update(
                user=request.user, link=link, camera=v.get("camera", link.camera),
                terminal_id=v.get("terminal_id", link.terminal_id),
            )  # fmt: skip
        except ValidationError as exc:
            raise _api_error(exc) from exc
        return Response(PosLinkSerializer(link).data)

    def destroy(self, request, *args, **kwargs):
        link = self.get_object()
        services.links_delete(user=request.user, links=[link])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("camera", int, description="Only this camera's transactions (an id)."),
            OpenApiParameter("kind", str, enum=TransactionKind.values),
            OpenApiParameter("q", str, description="Search in receipt no., register no. and staff."),
            OpenApiParameter("since", str, description="ISO 8601 time, inclusive."),
            OpenApiParameter("until", str, description="ISO 8601 time, exclusive."),
        ]
    )
)
class PosTransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PosTransactionSerializer
    lookup_url_kwarg = "transaction_id"
    lookup_value_converter = "int"

    def get_queryset(self):
        params = self.request.query_params
        camera = params.get("camera")
        camera_id = parse_id(camera)
        if camera and camera_id is None:
            raise ApiValidationError({"camera": [_("Enter the id as a number.")]})
        kind = params.get("kind")
        if kind and kind not in TransactionKind.values:
            raise ApiValidationError({"kind": [_("Choose one of: payment, cancel, modify, delete.")]})
        times = {}
        for name in ("since", "until"):
            if params.get(name):
                try:
                    times[name] = parse_datetime(params[name])
                except ValueError:  # well formed but no such time, e.g. month 13
                    times[name] = None
                if times[name] is None:
                    raise ApiValidationError({name: [_("Enter an ISO 8601 time.")]})
        rows = transaction_list(operator=self.request.operator, kind=kind, q=params.get("q"), **times)
        # Filtering by id inside the operator's own rows: another operator's camera id gives nothing.
        return rows.filter(camera_id=camera_id) if camera_id is not None else rows

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context() | {"thumbnails": thumbnails_for(page)}
        return self.get_paginated_response(self.get_serializer_class()(page, many=True, context=context).data)

    def get_object(self):
        return access_transaction(
            operator=self.request.operator, user=self.request.user, pk=self.kwargs["transaction_id"]
        )
