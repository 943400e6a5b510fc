"""REST API for accounts: users (admins), the caller's own account, own login history.

The same rules as the pages: lookups go through `access_user`, so another operator's account
is a 404 before any role check, and writes by non-admins are a 403 with a translated message.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from portal.errors import Conflict, is_conflict

from . import access, selectors, services
from .middleware import operator_for
from .models import User
from .serializers import (
    LoginHistorySerializer,
    MeSerializer,
    UserCreateSerializer,
    UserPasswordSerializer,
    UserSerializer,
    UserUpdateSerializer,
)


class IsOperatorMember(BasePermission):
    """Any logged-in member of an operator; role checks happen after the scoped lookup."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        # Token users are only known now, after DRF authentication; a session user's operator (which
        # a partner's proxy login may have switched to a customer) is kept as the middleware set it.
        if getattr(request._request, "operator", None) is None:
            request._request.operator = operator_for(user)
        return request._request.operator is not None


def _drf_errors(exc: DjangoValidationError) -> exceptions.ValidationError | Conflict:
    """A 400 with the messages per field, or a 409 with the same body for an email address already used."""
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return Conflict(detail) if is_conflict(exc) else exceptions.ValidationError(detail)


def _require_admin(user: User) -> None:
    try:
        access.require_admin(user)
    except DjangoPermissionDenied as exc:
        # DRF would replace Django's message with its generic one; keep ours (it is translated).
        raise exceptions.PermissionDenied(str(exc)) from exc


def _access_user(request, user_id, *, write: bool) -> User:
    try:
        return access.access_user(operator=request.operator, user=request.user, pk=user_id, write=write)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from exc


USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="Account id")


@extend_schema_view(
    list=extend_schema(
        summary="List the operator's accounts (admins)",
        parameters=[OpenApiParameter("search", str, description="Part of a name or email address")],
    ),
    create=extend_schema(
        summary="Add an account (admins)", request=UserCreateSerializer, responses={201: UserSerializer}
    ),
    retrieve=extend_schema(summary="One account (admins; others only their own)", parameters=[USER_ID]),
    update=extend_schema(
        summary="Change an account (admins)",
        request=UserUpdateSerializer,
        responses=UserSerializer,
        parameters=[USER_ID],
    ),
    partial_update=extend_schema(
        summary="Change an account (admins)",
        request=UserUpdateSerializer,
        responses=UserSerializer,
        parameters=[USER_ID],
    ),
    destroy=extend_schema(
        summary="Delete an account (admins; never your own)", parameters=[USER_ID], responses={204: None}
    ),
)
class UserViewSet(viewsets.GenericViewSet):
    serializer_class = UserSerializer
    permission_classes = [IsOperatorMember]
    lookup_url_kwarg = "user_id"
    lookup_value_regex = r"[0-9]+"

    def list(self, request):
        _require_admin(request.user)
        users = selectors.user_list(operator=request.operator, search=request.query_params.get("search", ""))
        page = self.paginate_queryset(users)
        return self.get_paginated_response(UserSerializer(page, many=True).data)

    def create(self, request):
        _require_admin(request.user)
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = services.user_create(
                operator=request.operator,
                actor=request.user,
                email=data["email"],
                name=data["name"],
                role=data["role"],
                password=data.get("password") or None,
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, user_id=None):
        return Response(UserSerializer(_access_user(request, user_id, write=False)).data)

    def update(self, request, user_id=None, partial: bool = False):
        target = _access_user(request, user_id, write=True)
        serializer = UserUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.user_update(
                actor=request.user,
                target=target,
                name=data.get("name", target.name),
                email=data.get("email", target.email),
                role=data.get("role"),
                current_password=data.get("current_password"),
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(UserSerializer(target).data)

    def partial_update(self, request, user_id=None):
        return self.update(request, user_id=user_id, partial=True)

    @extend_schema(
        summary="Set an account's password, or mail it a reset link (admins; not your own)",
        request=UserPasswordSerializer,
        responses={204: None},
        parameters=[USER_ID],
    )
    @action(detail=True, methods=["post"], url_path="password")
    def password(self, request, user_id=None):
        target = _access_user(request, user_id, write=True)
        serializer = UserPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if data.get("send_reset_link"):
                services.user_password_reset_send(actor=request.user, target=target)
            else:
                services.user_password_set(actor=request.user, target=target, new_password=data["password"])
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    def destroy(self, request, user_id=None):
        target = _access_user(request, user_id, write=True)
        try:
            services.user_delete(actor=request.user, target=target)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(GenericAPIView):
    """The caller's own account: name, email, two-step verification, login notification."""

    serializer_class = MeSerializer
    permission_classes = [IsOperatorMember]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(summary="Your own account")
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(summary="Change your own account")
    def patch(self, request):
        user = request.user
        serializer = MeSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if "name" in data or "email" in data:
                services.user_update(
                    actor=user,
                    target=user,
                    name=data.get("name", user.name),
                    email=data.get("email", user.email),
                    current_password=data.get("current_password"),
                )
            if "two_factor_mode" in data or "login_notification" in data:
                services.user_security_update(
                    user=user,
                    two_factor_mode=data.get("two_factor_mode", user.two_factor_mode),
                    login_notification=data.get("login_notification", user.login_notification),
                )
        except DjangoValidationError as exc:
            user.refresh_from_db()
            raise _drf_errors(exc) from exc
        return Response(MeSerializer(user).data)


@extend_schema_view(list=extend_schema(summary="Your own logins of the last 90 days"))
class LoginHistoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = LoginHistorySerializer
    permission_classes = [IsOperatorMember]

    def get_queryset(self):
        return selectors.login_history_for(user=self.request.user)


class TermsVersionField(serializers.CharField):
    """The version accepted: only the current one (tenants.terms.terms_consent_give refuses any other)."""


class TermsVersionSchema(OpenApiSerializerFieldExtension):
    target_class = TermsVersionField

    def map_serializer_field(self, auto_schema, direction):
        from .terms import current_terms_version

        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        current = current_terms_version()
        return {**schema, "enum": [current]} if direction == "request" and current else schema


class TermsSerializer(serializers.Serializer):
    version = TermsVersionField(max_length=40)
    consented_at = serializers.DateTimeField(read_only=True, allow_null=True)


class TermsView(GenericAPIView):
    """The terms of use to accept: GET the current version and your consent; POST {"version"} accepts it
    (an unknown or earlier version: 400, nothing saved)."""

    serializer_class = TermsSerializer
    permission_classes = [IsOperatorMember]

    def get(self, request):
        from .terms import current_terms_version, terms_consent_of

        consent = terms_consent_of(user=request.user)
        return Response({"version": current_terms_version(), "consented_at": consent.consented_at if consent else None})

    def post(self, request):
        from .terms import terms_consent_give

        serializer = TermsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            consent = terms_consent_give(user=request.user, version=serializer.validated_data["version"])
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response(
            {"version": consent.version, "consented_at": consent.consented_at}, status=status.HTTP_201_CREATED
        )
