"""Display helpers of the POS pages: yen amounts and payment-method labels."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yen(value) -> str:
    """¥35,000 (decimals only when there are any); an empty amount is a dash."""
    if value is None or value == "":
        return "-"
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"¥{amount:,.0f}"
    return f"¥{amount:,.2f}"


@register.filter
def payment_label(value: str) -> str:
    labels = {
        "cash": _("Cash"),
        "credit": _("Credit card"),
        "cash+credit": _("Cash and credit card"),
        "emoney": _("Electronic money"),
    }
    if not value:
        return "-"
    return " + ".join(labels.get(part, part) for part in value.split("+")) if value not in labels else labels[value]
