"""API shapes for accounts. Serializers validate input only; writes go through tenants.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import LoginHistory, Role, TwoFactorMode, User
from .selectors import describe_user_agent


class UserSerializer(serializers.ModelSerializer):
    invited = serializers.SerializerMethodField(help_text=_("True while the invitation has not been accepted."))

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "two_factor_mode", "date_joined", "last_login", "invited"]
        read_only_fields = ["id", "two_factor_mode", "date_joined", "last_login", "invited"]

    def get_invited(self, obj: User) -> bool:
        return not obj.has_usable_password()


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(label=_("Email address"))
    name = serializers.CharField(label=_("User name"), max_length=100)
    role = serializers.ChoiceField(label=_("Role"), choices=Role.choices)
    password = serializers.CharField(
        label=_("Initial password"),
        required=False,
        allow_blank=True,
        write_only=True,
        style={"input_type": "password"},
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


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(label=_("Email address"), required=False)
    name = serializers.CharField(label=_("User name"), max_length=100, required=False)
    role = serializers.ChoiceField(label=_("Role"), choices=Role.choices, required=False)
    current_password = current_password_field(_("Your password"))


class UserPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(
        label=_("New password"),
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("A temporary password: the user must change it at the next login."),
    )
    send_reset_link = serializers.BooleanField(label=_("Mail a reset link instead"), required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("send_reset_link") and not attrs.get("password"):
            raise serializers.ValidationError(
                {"password": [_("Enter the new password, or ask for a reset link to be mailed.")]}
            )
        return attrs


class MeSerializer(serializers.ModelSerializer):
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
