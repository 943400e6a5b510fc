"""`{% embed_license_summary as s %}`: the embed section of the customer's license page."""

from django import template

from embeds import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def embed_license_summary(context) -> dict | None:
    request = context.get("request")
    operator = getattr(request, "operator", None)
    if operator is None or operator.is_partner:
        return None
    return selectors.license_summary(operator=operator)
