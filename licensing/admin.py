"""Platform staff add license stock here: by hand, by an order file, or with `manage.py add_license_stock` /
`manage.py import_license_orders`."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
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


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("order file (CSV)"),
        help_text=gettext_lazy("Header: %(columns)s. One bad line imports nothing; orders imported before are skipped.")
        % {"columns": ", ".join(services.ORDER_COLUMNS)},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    change_list_template = "admin/licensing/license/change_list.html"
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
    search_fields = ["partner__name", "customer__name", "device__name", "order_ref"]
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
        "order_ref",
    ]

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_orders_view)
        return [path("import-orders/", view, name="licensing_license_import_orders"), *super().get_urls()]

    def import_orders_view(self, request):
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:licensing_license_changelist"))
        form = OrderImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = services.orders_import(text=form.cleaned_data["file"])
            except ValidationError as exc:
                form.add_error("file", [_("Nothing was imported."), *exc.messages])
            else:
                messages.success(
                    request,
                    _("%(orders)d orders imported (%(licenses)d licenses), %(skipped)d imported before and skipped.")
                    % {
                        "orders": len(result.added),
                        "licenses": sum(result.added.values()),
                        "skipped": len(result.skipped),
                    },
                )
                return HttpResponseRedirect(reverse("admin:licensing_license_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import license orders"),
            "form": form,
        }
        return TemplateResponse(request, "admin/licensing/license/import_orders.html", context)

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
