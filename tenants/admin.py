"""Platform staff move the administrator role here (or with `manage.py set_user_role`); every change is
audited (docs/product.md §1.3). The portal's own pages and API never make or unmake an administrator."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .models import RoleChange, User


class UserRoleForm(forms.ModelForm):
    reason = forms.CharField(
        label=gettext_lazy("reason for a role change"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Required when the role changes, e.g. the contract change; kept in the audit."),
    )

    class Meta:
        model = User
        fields = ["role"]

    def clean(self):
        data = super().clean()
        if "role" in self.changed_data and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for the role change (e.g. the contract change)."))
        return data


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Role only: everything else of an account is the customer's, on the portal's own pages."""

    form = UserRoleForm
    list_display = ["email", "name", "operator", "role", "is_active", "is_staff"]
    list_filter = ["role", "is_staff"]
    search_fields = ["email", "name", "operator__name"]
    readonly_fields = ["email", "name", "operator"]
    fields = ["email", "name", "operator", "role", "reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if "role" not in form.changed_data:
            return
        new_role = obj.role
        obj.role = form.initial["role"]  # the service moves it, with the audit row
        try:
            services.role_set_by_staff(
                target=obj,
                role=new_role,
                staff=request.user,
                via="admin_site",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))


@admin.register(RoleChange)
class RoleChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "operator", "old_role", "new_role", "changed_by", "via", "reason"]
    list_filter = ["via", "new_role"]
    search_fields = ["user__email", "reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
