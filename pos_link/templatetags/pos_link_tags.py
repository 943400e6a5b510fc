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
    """cash / card / other as the providers document them, joined with "+"; a method the pages do
    not know is shown as "Other (<its name>)", never dropped (stored rows keep the provider's word)."""
    labels = {
        "cash": _("Cash"),
        "card": _("Card"),
        "credit": _("Card"),  # rows stored before the documented kinds were followed
        "other": _("Other"),
    }
    if not value:
        return "-"
    parts = []
    for part in str(value).split("+"):
        part = part.strip()
        if part:
            parts.append(labels.get(part) or _("Other (%(name)s)") % {"name": part})
    return " + ".join(parts) or "-"
