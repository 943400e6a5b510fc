"""View helpers every app's pages share: the method guard, pagination and the two confirmation
flows (rename: edit → confirm before/after → saved; delete: a page that restates what goes → deleted).

Pages render `portal/_pagination.html` for a page of results, `portal/rename.html` and
`portal/delete_confirm.html` for the flows. This module imports no app: apps import it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

GET = require_http_methods(["GET"])
GET_POST = require_http_methods(["GET", "POST"])
PAGE_SIZE = 50


def paginate(request: HttpRequest, items, *, per_page: int = PAGE_SIZE) -> Page:
    """The page of `items` named by `?page=` (the first for a missing or malformed number, the last
    past the end)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def url_for_each(name: str, kwarg: str) -> Callable[[int], str]:
    """`reverse(name, kwargs={kwarg: pk})` for a list's every row at the cost of one reversal: the URL
    is reversed once with a marker id, which each row's id then replaces (an `<int:…>` converter writes
    an id as its digits, so the two agree)."""
    marker = str(987_654_321_012)
    head, found, tail = reverse(name, kwargs={kwarg: int(marker)}).partition(marker)
    if not found or marker in tail:
        raise ValueError(f"{name}: the URL does not carry {kwarg} once")
    return lambda pk: f"{head}{int(pk)}{tail}"


@dataclass
class RenamePage:
    title: str
    facts: list[tuple[str, str]]  # context shown above the names: building, room …
    before: str
    cancel_url: str
    extra: dict = field(default_factory=dict)


def rename_flow(
    request: HttpRequest,
    *,
    form_class: type,
    form_kwargs: dict,
    page: RenamePage,
    save: Callable[[str], object],
    success_message: str,
    success_url: str,
) -> HttpResponse:
    """POST without a button name re-checks the edit; `confirm` saves; `back` returns to the edit
    with the entered value kept."""
    context = {"page": page, "stage": "edit"}
    if request.method == "POST" and "back" in request.POST:
        form = form_class(initial={"name": request.POST.get("name", "")}, **form_kwargs)
    elif request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            if "confirm" in request.POST:
                try:
                    save(form.cleaned_data["name"])
                except ValidationError as exc:  # changed meanwhile (e.g. the name was taken): back to the edit
                    form.add_error(None, exc)
                else:
                    messages.success(request, success_message)
                    return redirect(success_url)
            else:
                context.update(stage="confirm", after=form.cleaned_data["name"])
    else:
        form = form_class(initial={"name": page.before}, **form_kwargs)
    context["form"] = form
    return render(request, "portal/rename.html", context)


def delete_flow(
    request: HttpRequest,
    *,
    title: str,
    facts: list[tuple[str, str]],
    summary: dict[str, int],
    cancel_url: str,
    delete: Callable[[], None],
    success_message: str,
    success_url: str,
    media: dict | None = None,
) -> HttpResponse:
    """`media`: the recorded media that go too (buildings.hooks.media_summary), stated before deleting."""
    if request.method == "POST":
        delete()
        messages.success(request, success_message)
        return redirect(success_url)
    context = {"title": title, "facts": facts, "summary": summary, "cancel_url": cancel_url, "media": media}
    return render(request, "portal/delete_confirm.html", context)
