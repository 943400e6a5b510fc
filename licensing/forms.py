from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LicenseKind


class CustomerCreateForm(forms.Form):
    name = forms.CharField(label=_("Customer name"), max_length=200)
    email = forms.EmailField(label=_("Email address"))
    use_temporary_password = forms.BooleanField(
        label=_("Create with a temporary password"),
        required=False,
        help_text=_(
            "Tell the customer this password yourself. Without it, a random password is mailed to the customer "
            "and must be changed within 24 hours."
        ),
    )
    temporary_password = forms.CharField(
        label=_("Temporary password"), required=False, widget=forms.PasswordInput(render_value=True)
    )

    def clean(self):
        data = super().clean()
        if data.get("use_temporary_password") and not data.get("temporary_password"):
            self.add_error("temporary_password", _("Enter the temporary password."))
        if not data.get("use_temporary_password"):
            data["temporary_password"] = None
        return data


class EmailCorrectForm(forms.Form):
    email = forms.EmailField(label=_("Correct email address"))


class AssignChooseForm(forms.Form):
    """Step 1: what (kind and term from the stock), how many, to whom."""

    stock = forms.ChoiceField(label=_("Licenses"))
    count = forms.IntegerField(label=_("Number of licenses"), min_value=1, max_value=1000, initial=1)
    # By email, not from a list of names: a partner may have hundreds of customers (search above the form).
    customer_email = forms.EmailField(
        label=_("Customer's email address"),
        help_text=_("The email address of one of the customer's accounts. Search for it above."),
    )

    def __init__(self, *args, stock_rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stock"].choices = [
            (
                f"{row['kind']}:{row['term_months']}",
                _("%(kind)s, %(months)d months (%(count)d in stock)")
                % {"kind": row["kind_label"], "months": row["term_months"], "count": row["count"]},
            )
            for row in stock_rows
        ]

    def clean_stock(self) -> tuple[str, int]:
        kind, _sep, months = self.cleaned_data["stock"].partition(":")
        if kind not in LicenseKind.values or not months.isdigit():
            raise forms.ValidationError(_("Choose licenses from your stock."))
        return kind, int(months)


class LicenseMoveForm(forms.Form):
    device = forms.ChoiceField(label=_("Move to camera"))

    def __init__(self, *args, cameras, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [(c.pk, f"{c.room} / {c.name}") for c in cameras]
