"""`{% page_query n %}`: the current query string with `page=n`, so a filtered list (a search, a
kind, a window) keeps its filter from page to page."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number: int) -> str:
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return f"page={number}"
    query["page"] = str(number)
    return query.urlencode()
