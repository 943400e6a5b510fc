"""API shapes for accounts. Serializers validate input only; writes go through tenants.services."""

import copy

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import LoginHistory, Role, TwoFactorMode, User
from .selectors import describe_user_agent

# What the services check with their own message, said in the request schema so that a request the schema
# calls valid is not refused for its shape (tests/test_api_fuzz.py, positive_data_acceptance).


def _password_min_length() -> int:
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith(".MinimumLengthValidator"):
            return validator.get("OPTIONS", {}).get("min_length", 8)
    return 1


# tenants.validators.AllowedSymbolsValidator's letters, digits and symbols, and not only digits (Django's
# NumericPasswordValidator). A common password (CommonPasswordValidator's list) is still refused.
PASSWORD_PATTERN = r"^[A-Za-z0-9@_!.$%&+#-]*[A-Za-z@_!.$%&+#-][A-Za-z0-9@_!.$%&+#-]*$"  # noqa: S105 - a pattern, no password
PASSWORD_SCHEMA = {"type": "string", "minLength": _password_min_length(), "pattern": PASSWORD_PATTERN}


@extend_schema_field(PASSWORD_SCHEMA)
class PasswordField(serializers.CharField):
    """A new password, documented with the password rules (settings.AUTH_PASSWORD_VALIDATORS)."""


@extend_schema_field({"type": "string", "anyOf": [{"maxLength": 0}, PASSWORD_SCHEMA]})
class OptionalPasswordField(PasswordField):
    """A new password or blank (the service then does without one)."""


def password_field(*, allow_blank: bool = False, **kwargs) -> PasswordField:
    kwargs.setdefault("style", {"input_type": "password"})
    field = OptionalPasswordField if allow_blank else PasswordField
    return field(write_only=True, allow_blank=allow_blank, **kwargs)


def email_field(**kwargs) -> serializers.EmailField:
    return serializers.EmailField(max_length=User._meta.get_field("email").max_length, **kwargs)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"})
class UserNameField(serializers.CharField):
    """An account's name: DRF strips it and refuses it blank, so it holds something besides spaces."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=100, **kwargs)


# The roles the API gives (tenants.services: an administrator comes with the contract). "admin" is refused by
# the service with its own message, so the field takes every role and the schema lists these.
GIVEN_ROLES = [role for role in Role.values if role != Role.ADMIN]


@extend_schema_field({"type": "string", "enum": GIVEN_ROLES})
class GivenRoleField(serializers.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=Role.choices, **kwargs)


class RequestAnyOf:  # no docstring: drf-spectacular would describe every serializer with it
    # A serializer whose request needs one of several sets of fields: `request_any_of`, the request schema's
    # anyOf (a request with none of them is refused).
    request_any_of: list[dict] = []


class RequestAnyOfSchema(OpenApiSerializerExtension):
    target_class = RequestAnyOf
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        # A copy: drf-spectacular's enum hook rewrites what it is given in place (module docstring of
        # congestion/api_schema.py's RawBodyExtension), and the next schema of the process would miss a component.
        return {**schema, "anyOf": copy.deepcopy(self.target.request_any_of)} if direction == "request" else schema


class UserSerializer(serializers.ModelSerializer):
    invited = serializers.SerializerMethodField(help_text=_("True while the invitation has not been accepted."))

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "two_factor_mode", "date_joined", "last_login", "invited"]
        read_only_fields = ["id", "two_factor_mode", "date_joined", "last_login", "invited"]

    def get_invited(self, obj: User) -> bool:
        return not obj.has_usable_password()


class UserCreateSerializer(serializers.Serializer):
    email = email_field(label=_("Email address"))
    name = UserNameField(label=_("User name"))
    role = GivenRoleField(label=_("Role"))
    password = password_field(
        label=_("Initial password"),
        required=False,
        allow_blank=True,
        help_text=_("Optional. Without it an invitation link (valid for 72 hours) is mailed instead."),
    )


def current_password_field(label) -> serializers.CharField:
    return serializers.CharField(
        label=label,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("Needed only to change the email address."),
    )


# An email address is changed only with the caller's password (tenants.services.user_update): a request that
# sends one sends current_password too. (The same address as now needs none; the schema asks it anyway.)
EMAIL_NEEDS_PASSWORD = [{"not": {"required": ["email"]}}, {"required": ["current_password"]}]


class UserUpdateSerializer(RequestAnyOf, serializers.Serializer):
    request_any_of = EMAIL_NEEDS_PASSWORD

    email = email_field(label=_("Email address"), required=False)
    name = UserNameField(label=_("User name"), required=False)
    role = GivenRoleField(label=_("Role"), required=False)
    current_password = current_password_field(_("Your password"))


class UserPasswordSerializer(RequestAnyOf, serializers.Serializer):
    # A password, or send_reset_link true (`validate`).
    request_any_of = [
        {"required": ["password"], "properties": {"password": {"minLength": 1}}},
        {"required": ["send_reset_link"], "properties": {"send_reset_link": {"enum": [True]}}},
    ]

    password = password_field(
        label=_("New password"),
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("A temporary password: the user must change it at the next login."),
    )
    send_reset_link = serializers.BooleanField(label=_("Mail a reset link instead"), required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("send_reset_link") and not attrs.get("password"):
            raise serializers.ValidationError(
                {"password": [_("Enter the new password, or ask for a reset link to be mailed.")]}
            )
        return attrs


class MeSerializer(RequestAnyOf, serializers.ModelSerializer):
    request_any_of = EMAIL_NEEDS_PASSWORD

    operator_name = serializers.CharField(source="operator.name", read_only=True)
    share_id = serializers.CharField(source="operator.share_id", read_only=True)
    two_factor_mode = serializers.ChoiceField(choices=TwoFactorMode.choices, required=False)
    current_password = current_password_field(_("Current password"))

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "role",
            "two_factor_mode",
            "login_notification",
            "operator_name",
            "share_id",
            "current_password",
        ]
        read_only_fields = ["id", "role", "operator_name", "share_id"]
        extra_kwargs = {"email": {"validators": []}}  # uniqueness is the service's job (one message)


class LoginHistorySerializer(serializers.ModelSerializer):
    browser = serializers.SerializerMethodField()

    class Meta:
        model = LoginHistory
        fields = ["at", "ip", "browser", "user_agent", "succeeded", "detail"]
        read_only_fields = fields

    def get_browser(self, obj: LoginHistory) -> str:
        return describe_user_agent(obj.user_agent)
