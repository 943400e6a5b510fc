"""Forms for login, two-step verification, passwords, the account page and user management.

Forms only check input shape; the rules (account limit, own role, password policy) live in
services, whose ValidationErrors are put back next to the right field by `apply_service_errors`.
"""

from datetime import timedelta

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Role, TwoFactorMode, User
from .services import invitation_accept, password_change, password_reset_complete
from .validators import ALLOWED_SYMBOLS


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the field exists, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def portal_role_choices() -> list[tuple[str, str]]:
    """The roles an admin may give: administrators come with the contract (docs/product.md §1.3)."""
    return [(value, label) for value, label in Role.choices if value != Role.ADMIN]


def symbols_help() -> str:
    return _("Use at least 8 characters: letters, digits and only these symbols: %(symbols)s") % {
        "symbols": " ".join(ALLOWED_SYMBOLS)
    }


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TwoFactorForm(forms.Form):
    code = forms.RegexField(
        label=_("Verification code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text=_("The 6-digit code from the email we have just sent you."),
        error_messages={"invalid": _("Enter the 6 digits from the email.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "pattern": r"\d{6}"}
        ),
    )


class _ServiceSetPasswordMixin:
    """Django's password forms, but saving through a tenants service (which also clears flags)."""

    service = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = symbols_help()
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password (again)")

    def save(self, commit: bool = True):
        type(self).service(user=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user


class PortalPasswordChangeForm(_ServiceSetPasswordMixin, PasswordChangeForm):
    service = staticmethod(password_change)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")

    def clean(self):
        data = super().clean()
        new = data.get("new_password2")
        if new and "new_password2" not in self.errors and self.user.check_password(new):
            self.add_error("new_password2", _("Choose a password different from the current one."))
        return data


class PortalSetPasswordForm(_ServiceSetPasswordMixin, SetPasswordForm):
    """Reset by emailed link: also lifts a lockout."""

    service = staticmethod(password_reset_complete)


class InvitationAcceptForm(_ServiceSetPasswordMixin, SetPasswordForm):
    @staticmethod
    def service(*, user: User, new_password: str) -> None:
        invitation_accept(user=user, password=new_password)


class PortalPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("The address you log in with. If it has an account, we mail it a link to set a new password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


def current_password_field(label) -> forms.CharField:
    # Checked by the service (tenants.services.user_update), and only when the email address changes.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=_("Needed only to change the email address."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("User name"), max_length=100)
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("You log in with this address; codes and notifications are mailed to it."),
    )
    current_password = current_password_field(_("Current password"))


class ApiTokenForm(forms.Form):
    EXPIRY_CHOICES = [
        (30, _("in 30 days")),
        (90, _("in 90 days")),
        (365, _("in a year")),
        (0, _("never")),
    ]

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What uses it, e.g. the reporting script, so you can tell your tokens apart."),
    )
    expires_in_days = forms.TypedChoiceField(label=_("Expires"), choices=EXPIRY_CHOICES, coerce=int, initial=90)

    def expires_at(self, now):
        days = self.cleaned_data["expires_in_days"]
        return now + timedelta(days=days) if days else None


class SecurityForm(forms.Form):
    two_factor_mode = forms.ChoiceField(
        label=_("Two-step verification"),
        choices=TwoFactorMode.choices,
        widget=forms.RadioSelect,
        help_text=_("A 6-digit code is mailed to you and must be entered after the password."),
    )
    login_notification = forms.BooleanField(
        label=_("Mail me when I log in from a new environment"),
        required=False,
        help_text=_("A new browser or IP address triggers the mail, so you notice logins that were not you."),
    )


class UserSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name or email"), required=False, max_length=100)


class UserCreateForm(forms.Form):
    SETUP_INVITE = "invite"
    SETUP_PASSWORD = "password"  # noqa: S105 - a choice value, not a secret

    name = forms.CharField(label=_("User name"), max_length=100)
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=lambda: portal_role_choices(),
        initial=Role.VIEWER,
        help_text=_("Administrators can change every setting; the other roles can only watch and download."),
    )
    setup = forms.ChoiceField(
        label=_("How the user gets a password"),
        choices=[
            (SETUP_INVITE, _("Mail an invitation link (valid for 72 hours); the user sets the password")),
            (SETUP_PASSWORD, _("Set an initial password now; the user must change it at first login")),
        ],
        initial=SETUP_INVITE,
        widget=forms.RadioSelect,
    )
    password1 = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Initial password (again)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = symbols_help()

    def clean(self):
        data = super().clean()
        if data.get("setup") == self.SETUP_PASSWORD:
            p1, p2 = data.get("password1"), data.get("password2")
            if not p1:
                self.add_error("password1", _("Enter an initial password, or choose the invitation mail."))
            elif p1 != p2:
                self.add_error("password2", _("The two passwords are not the same."))
            else:
                try:
                    candidate = User(email=data.get("email", ""), name=data.get("name", ""))
                    password_validation.validate_password(p1, candidate)
                except ValidationError as exc:
                    self.add_error("password1", exc)
        return data

    @property
    def initial_password(self) -> str | None:
        if self.cleaned_data.get("setup") == self.SETUP_PASSWORD:
            return self.cleaned_data.get("password1") or None
        return None


class UserEditForm(forms.Form):
    name = forms.CharField(label=_("User name"), max_length=100)
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    current_password = current_password_field(_("Your password"))

    def __init__(self, *args, is_self: bool = False, target_is_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if is_self:
            # Keeps at least one admin per operator: nobody demotes themselves.
            self.fields["role"].disabled = True
            self.fields["role"].help_text = _("You cannot change your own role.")
        elif target_is_admin:
            self.fields["role"].disabled = True
            self.fields["role"].help_text = _("An administrator's role is changed only by support, with the contract.")
        else:
            self.fields["role"].choices = portal_role_choices()
            self.fields["role"].help_text = _(
                "Administrator accounts are issued with the contract; support changes who is the administrator."
            )


class UserPasswordSetForm(forms.Form):
    """An admin sets another account's password; the user must change it at the next login."""

    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = symbols_help()

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data
