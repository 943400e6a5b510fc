"""Platform staff add license stock here (or with `manage.py add_license_stock`)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Operator

from . import services
from .models import AssignmentHistory, License, ProxySession, ReminderSent


class StockAddForm(forms.ModelForm):
    count = forms.IntegerField(label=gettext_lazy("number of licenses"), min_value=1, max_value=1000, initial=1)

    class Meta:
        model = License
        fields = ["partner", "kind", "term_months"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Operator.objects.filter(kind=Operator.Kind.PARTNER)


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "term_months",
        "partner",
        "customer",
        "device",
        "starts_on",
        "ends_on",
        "auto_assigned",
    ]
    list_filter = ["kind", "term_months", "auto_assigned"]
    search_fields = ["partner__name", "customer__name", "device__name"]
    # Assignment is the partner's irreversible act, done through the services; staff only add stock.
    readonly_fields = [
        "customer",
        "assigned_at",
        "assigned_by",
        "auto_assigned",
        "starts_on",
        "paid_from",
        "ends_on",
        "device",
        "renews",
        "expiry_processed_at",
        "created_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StockAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else [*self.readonly_fields, "partner", "kind", "term_months"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "kind", "term_months", "count"]
        return super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            created = services.stock_add(
                partner=obj.partner, kind=obj.kind, months=obj.term_months, count=form.cleaned_data["count"]
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return
        obj.pk = created[0].pk
        messages.success(request, _("%(count)d licenses added to the stock.") % {"count": len(created)})

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.customer_id is None  # assigned licenses are history


@admin.register(AssignmentHistory)
class AssignmentHistoryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "license", "partner", "customer", "by", "device_name"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["license", "step", "ends_on", "claimed_at", "skipped", "mailed_to"]


@admin.register(ProxySession)
class ProxySessionAdmin(admin.ModelAdmin):
    list_display = ["started_at", "ended_at", "partner", "customer", "user_email"]
