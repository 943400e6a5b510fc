"""Partner console (stock, customers, assignment, history, expiries, proxy login) and the customer's license page.

Partner pages resolve the operator through `selectors.access_partner`: a customer (or a partner
user acting as a customer) gets 404 there. Objects come through the access functions only.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.client_ip import client_ip
from portal.web import paginate
from tenants.access import require_admin

from . import clock, selectors, services
from .forms import AssignChooseForm, CustomerCreateForm, EmailCorrectForm, LicenseMoveForm
from .middleware import SESSION_KEY
from .models import LicenseKind

PAGE_SIZE = 25


def _partner(request):
    return selectors.access_partner(operator=request.operator)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---------------------------------------------------------------- partner console


@login_required
def partner_dashboard(request):
    partner = _partner(request)
    context = {
        "stock": selectors.stock_summary(partner=partner),
        "expiries": selectors.upcoming_expiries(partner=partner, days=30)[:10],
        "customer_count": selectors.customer_list(partner=partner).count(),
        "now": clock.now(),
    }
    return render(request, "licensing/partner_dashboard.html", context)


@login_required
def customer_list(request):
    partner = _partner(request)
    page = paginate(request, selectors.customer_list(partner=partner), per_page=PAGE_SIZE)
    return render(request, "licensing/partner_customers.html", {"page": page})


@login_required
def customer_add(request):
    partner = _partner(request)
    require_admin(request.user)
    form = CustomerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer, admin = services.customer_create(
                partner=partner,
                actor=request.user,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                temporary_password=form.cleaned_data["temporary_password"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if form.cleaned_data["temporary_password"]:
                messages.success(
                    request, _("Customer %(name)s added with the temporary password.") % {"name": customer}
                )
            else:
                messages.success(
                    request,
                    _(
                        "Customer %(name)s added. A password was mailed to %(email)s; "
                        "it must be changed within 24 hours."
                    )
                    % {"name": customer, "email": admin.email},
                )
            return redirect("licensing:customer_detail", customer_id=customer.pk)
    return render(request, "licensing/partner_customer_form.html", {"form": form})


@login_required
def customer_detail(request, customer_id: int):
    partner = _partner(request)
    customer = selectors.access_customer(partner=partner, user=request.user, pk=customer_id)
    context = {
        "customer": customer,
        "admin_account": selectors.customer_admin(customer=customer),
        "licenses": selectors.license_list(operator=partner).filter(customer=customer),
        "can_correct_email": not selectors.customer_has_licenses(customer=customer),
        "today": selectors.today(),
    }
    return render(request, "licensing/partner_customer_detail.html", context)


@login_required
def customer_email_correct(request, customer_id: int):
    partner = _partner(request)
    customer = selectors.access_customer(partner=partner, user=request.user, pk=customer_id, write=True)
    admin = selectors.customer_admin(customer=customer)
    form = EmailCorrectForm(request.POST or None, initial={"email": admin.email if admin else ""})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.customer_email_correct(
                partner=partner, actor=request.user, customer=customer, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The email address is now %(email)s.") % {"email": user.email})
            return redirect("licensing:customer_detail", customer_id=customer.pk)
    return render(request, "licensing/partner_email_correct.html", {"form": form, "customer": customer})


@login_required
def assign_choose(request):
    partner = _partner(request)
    require_admin(request.user)
    stock_rows = selectors.stock_summary(partner=partner)
    customers = selectors.customer_list(partner=partner)
    initial = {}
    if request.GET.get("customer_id"):  # from a customer's page or a search result
        chosen = selectors.access_customer(partner=partner, user=request.user, pk=request.GET["customer_id"])
        admin = selectors.customer_admin(customer=chosen)
        initial["customer_email"] = admin.email if admin else ""
    form = AssignChooseForm(request.POST or None, stock_rows=stock_rows, initial=initial)
    if request.method == "POST" and form.is_valid():
        kind, months = form.cleaned_data["stock"]
        customer = selectors.customer_by_email(partner=partner, email=form.cleaned_data["customer_email"])
        if customer is None:
            form.add_error("customer_email", _("None of your customers has an account with this email address."))
        else:
            try:
                ids = services.stock_pick(partner=partner, kind=kind, months=months, count=form.cleaned_data["count"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                return _confirm(request, customer=customer, kind=kind, months=months, ids=ids, renews=None)
    query = request.GET.get("q", "")
    context = {
        "form": form,
        "has_stock": bool(stock_rows),
        "has_customers": customers.exists(),
        "query": query,
        "matches": selectors.customer_search(partner=partner, query=query),
    }
    return render(request, "licensing/partner_assign.html", context)


def _confirm(request, *, customer, kind, months, ids, renews):
    context = {
        "customer": customer,
        "kind": kind,
        "kind_label": LicenseKind(kind).label,
        "months": months,
        "ids": ids,
        "renews": renews,
    }
    return render(request, "licensing/partner_assign_confirm.html", context)


@login_required
@require_POST
def assign_confirm(request):
    partner = _partner(request)
    require_admin(request.user)
    customer = selectors.access_customer(partner=partner, user=request.user, pk=request.POST.get("customer_id"))
    renews = None
    if request.POST.get("renews_id"):
        renews = selectors.access_license(operator=partner, user=request.user, pk=request.POST["renews_id"])
    try:
        ids = [int(i) for i in request.POST.getlist("license_id")]
        assigned = services.license_assign(
            partner=partner,
            actor=request.user,
            customer=customer,
            license_ids=ids,
            kind=request.POST.get("kind", ""),
            renews=renews,
        )
    except (ValueError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else _("Choose licenses from your stock.")
        messages.error(request, message)
        return redirect("licensing:assign")
    messages.success(
        request, _("%(count)d licenses assigned to %(name)s.") % {"count": len(assigned), "name": customer.name}
    )
    return redirect("licensing:history")


@login_required
def license_renew(request, license_id: int):
    """Choose one license of the same kind from stock to renew an assigned license, then confirm."""
    partner = _partner(request)
    require_admin(request.user)
    current = selectors.access_license(operator=partner, user=request.user, pk=license_id)
    if current.customer_id is None:
        raise Http404
    terms_in_stock = [row for row in selectors.stock_summary(partner=partner) if row["kind"] == current.kind]
    if request.method == "POST":
        try:
            months = int(request.POST.get("term_months", ""))
            ids = services.stock_pick(partner=partner, kind=current.kind, months=months, count=1)
        except (ValueError, ValidationError):
            messages.error(request, _("Choose a term that is in your stock."))
        else:
            return _confirm(
                request, customer=current.customer, kind=current.kind, months=months, ids=ids, renews=current
            )
    return render(request, "licensing/partner_renew.html", {"current": current, "terms_in_stock": terms_in_stock})


@login_required
def history(request):
    partner = _partner(request)
    return render(
        request,
        "licensing/history.html",
        {"page": paginate(request, selectors.assignment_history(operator=partner), per_page=PAGE_SIZE)},
    )


@login_required
def expiries(request):
    partner = _partner(request)
    page = paginate(request, selectors.upcoming_expiries(partner=partner, days=90), per_page=PAGE_SIZE)
    return render(request, "licensing/partner_expiries.html", {"page": page})


@login_required
@require_POST
def proxy_start(request, customer_id: int):
    partner = _partner(request)
    customer = selectors.access_customer(partner=partner, user=request.user, pk=customer_id, write=True)
    try:
        session = services.proxy_start(partner_user=request.user, customer=customer, ip=client_ip(request))
    except ValidationError as exc:
        raise PermissionDenied("; ".join(exc.messages)) from exc
    request.session[SESSION_KEY] = session.pk
    messages.success(request, _("You are now acting as %(name)s. Every change is recorded.") % {"name": customer.name})
    return redirect("licensing:licenses")


@login_required
@require_POST
def proxy_end(request):
    proxy = getattr(request, "proxy_session", None)
    request.session.pop(SESSION_KEY, None)
    if proxy is not None:
        services.proxy_end(session=proxy)
        messages.success(request, _("You are no longer acting as %(name)s.") % {"name": proxy.customer.name})
    if request.user.operator.is_partner:
        return redirect("licensing:partner")
    return redirect("home")


# ---------------------------------------------------------------- customer


@login_required
def licenses(request):
    operator = request.operator
    if operator.is_partner:
        return redirect("licensing:partner")
    context = {
        "licenses": selectors.license_list(operator=operator).order_by("device__name", "ends_on", "id"),
        "today": selectors.today(),
        "camera_states": selectors.camera_license_states(operator=operator),
        "embed_quota": selectors.embed_call_quota(operator),
        "proxy_sessions": selectors.proxy_sessions_for(operator=operator)[:20],
        "history": selectors.assignment_history(operator=operator)[:20],
    }
    return render(request, "licensing/customer_licenses.html", context)


@login_required
def license_move(request, license_id: int):
    operator = request.operator
    lic = selectors.access_license(operator=operator, user=request.user, pk=license_id, write=True)
    if operator.is_partner or lic.customer_id != operator.pk:
        raise Http404  # a partner moves a customer's license by acting as the customer
    cameras = selectors.cameras_without_license(customer=operator)
    form = LicenseMoveForm(request.POST or None, cameras=cameras)
    if request.method == "POST" and form.is_valid():
        device = cameras.get(pk=form.cleaned_data["device"])
        try:
            services.license_move(
                operator=operator, actor=request.user, lic=lic, device=device, proxy=request.proxy_session
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The license now covers %(name)s.") % {"name": device.name})
            return redirect("licensing:licenses")
    return render(
        request, "licensing/license_move.html", {"form": form, "license": lic, "has_cameras": cameras.exists()}
    )
