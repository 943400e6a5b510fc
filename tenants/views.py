"""Pages for login, two-step verification, passwords, the own account and user management."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portal.web import paginate

from . import login_checks, security, selectors, services
from .access import access_user, require_admin
from .auth_backend import request_ip, request_user_agent
from .forms import (
    ApiTokenForm,
    InvitationAcceptForm,
    LoginForm,
    PortalPasswordChangeForm,
    PortalPasswordResetForm,
    PortalSetPasswordForm,
    ProfileForm,
    SecurityForm,
    TwoFactorForm,
    UserCreateForm,
    UserEditForm,
    UserPasswordSetForm,
    UserSearchForm,
    apply_service_errors,
)
from .models import User

DEVICE_COOKIE = "portal_device"
DEVICE_COOKIE_SALT = "tenants.device"
DEVICE_COOKIE_MAX_AGE = int(timedelta(days=400).total_seconds())  # Chrome caps cookie lifetimes at 400 days
PENDING_LOGIN = "tenants.pending_login"
MAX_CODE_RESENDS = 3
PAGE_SIZE = 20


# ---------------------------------------------------------------- helpers


def _device_key(request: HttpRequest) -> str | None:
    """The browser's key from the long-lived signed cookie, or None for a browser never seen."""
    key = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)
    return key if key and len(key) <= 64 else None


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _local_time_label(moment) -> str:
    """ "14:35" today, with the date otherwise, in the portal's time zone."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return f"{date_format(local, 'Y-m-d')} {local.strftime('%H:%M')}"


def _complete_login(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Password (and code, where asked) are right: log in, record, remember this browser."""
    device_key = _device_key(request) or secrets.token_urlsafe(32)
    request.session.pop(PENDING_LOGIN, None)
    login(request, user, backend="tenants.auth_backend.EmailBackend")
    services.login_succeeded(
        user=user, ip=request_ip(request), user_agent=request_user_agent(request), device_key=device_key
    )
    response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
    response.set_signed_cookie(
        DEVICE_COOKIE,
        device_key,
        salt=DEVICE_COOKIE_SALT,
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _as_validation_error(exc: Exception) -> ValidationError:
    # A service's PermissionDenied (e.g. account changes during a proxy login) shown like its other refusals.
    return exc if isinstance(exc, ValidationError) else ValidationError(str(exc))


# ---------------------------------------------------------------- login, two-step, logout


LOGIN_REFUSED = _lazy("The email address or the password is not correct.")


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        if getattr(request, "login_throttled", False):
            status = 429
            form.add_error(
                None,
                _("Too many failed logins came from your network. Wait %(minutes)d minutes and try again.")
                % {"minutes": settings.PORTAL_LOGIN_IP_WINDOW_MINUTES},
            )
        elif user is None:
            # One answer for an unknown email, a wrong password and a locked account, so nobody learns
            # which addresses have an account; the owner of a locked account is told by mail.
            form.add_error(None, LOGIN_REFUSED)
        elif refusal := login_checks.refusal(user):
            # E.g. licensing's expired temporary password (read on the licensing clock).
            form.add_error(None, refusal)
        elif security.two_factor_required(user=user, device_key=_device_key(request), ip=request_ip(request)):
            try:
                challenge = security.two_factor_start(user=user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                request.session[PENDING_LOGIN] = {
                    "challenge_id": challenge.pk,
                    "user_id": user.pk,
                    "next": next_url,
                    "resends": 0,
                }
                return redirect("tenants:two_factor_verify")
        else:
            return _complete_login(request, user, next_url)
    return render(request, "tenants/login.html", {"form": form, "next": next_url}, status=status)


def _pending_login(request: HttpRequest):
    """The password-checked login waiting for its code: (session data, user) or (None, None).
    Only ids are in the session; the code's hash and the wrong-try count are in the database."""
    pending = request.session.get(PENDING_LOGIN)
    try:
        user_id, challenge_id = int(pending["user_id"]), int(pending["challenge_id"])
    except (KeyError, TypeError, ValueError):
        user_id = challenge_id = None
    user = selectors.user_for_login(user_id=user_id) if challenge_id else None
    if user is None:
        request.session.pop(PENDING_LOGIN, None)
        return None, None
    return pending, user


def _back_to_login(request: HttpRequest, message: str) -> HttpResponse:
    request.session.pop(PENDING_LOGIN, None)
    messages.error(request, message)
    return redirect("tenants:login")


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    pending, user = _pending_login(request)
    if user is None:
        return _back_to_login(request, _("Log in with your email address and password first."))
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = security.two_factor_verify(
            user=user,
            challenge_id=pending["challenge_id"],
            code=form.cleaned_data["code"],
            ip=request_ip(request),
            user_agent=request_user_agent(request),
        )
        if check.result is security.CodeResult.OK:
            return _complete_login(request, user, pending.get("next", ""))
        if check.result is security.CodeResult.EXPIRED:
            return _back_to_login(request, _("The verification code has expired. Log in again to get a new one."))
        if check.result is security.CodeResult.LOCKED:
            return _back_to_login(
                request,
                _(
                    "The verification code was wrong too many times. The account is locked for %(minutes)d "
                    "minutes; we have mailed its owner."
                )
                % {"minutes": settings.PORTAL_LOCKOUT_MINUTES},
            )
        if check.result is security.CodeResult.GONE:
            return _back_to_login(request, _("This verification code is no longer valid. Log in again."))
        left = check.attempts_left
        form.add_error(
            "code",
            ngettext(
                "This code is not correct. You can try %(left)d more time.",
                "This code is not correct. You can try %(left)d more times.",
                left,
            )
            % {"left": left},
        )
    context = {
        "form": form,
        "email": user.email,
        "minutes": settings.PORTAL_TWO_FACTOR_CODE_MINUTES,
        "can_resend": pending.get("resends", 0) < MAX_CODE_RESENDS,
    }
    return render(request, "tenants/two_factor.html", context)


@never_cache
@require_POST
def two_factor_resend_view(request: HttpRequest) -> HttpResponse:
    pending, user = _pending_login(request)
    if user is None:
        return _back_to_login(request, _("Log in with your email address and password first."))
    if pending.get("resends", 0) >= MAX_CODE_RESENDS:
        return _back_to_login(request, _("Too many codes were requested. Log in again."))
    try:
        # Wrong tries are counted per user, so asking for a new code buys no more guesses.
        fresh = security.two_factor_start(user=user)
    except ValidationError as exc:
        return _back_to_login(request, " ".join(exc.messages))
    pending.update(challenge_id=fresh.pk, resends=pending.get("resends", 0) + 1)
    request.session[PENDING_LOGIN] = pending
    messages.success(request, _("A new code has been sent to %(email)s.") % {"email": user.email})
    return redirect("tenants:two_factor_verify")


@never_cache
def staff_admin_login_view(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The Django admin's login page, replaced: staff log in through the portal's own login, so the
    lock, two-step verification, login history and new-environment mail apply to them too."""
    admin_index = reverse("admin:index")
    next_url = _safe_next(request) or admin_index
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        # Without this a logged-in non-staff user would bounce between the two login pages.
        raise PermissionDenied(_("Only platform staff can open the admin site."))
    return redirect(f"{reverse('tenants:login')}?{urlencode({'next': next_url})}")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have logged out."))
    return redirect("tenants:login")


# ---------------------------------------------------------------- own account


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    first = request.user.must_change_password
    form = PortalPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("home" if first else "tenants:account")
    return render(request, "tenants/password_change.html", {"form": form, "first": first})


@sensitive_post_parameters("current_password")
@login_required
@require_http_methods(["GET", "POST"])
def account_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    profile = ProfileForm(
        request.POST if action == "profile" else None, initial={"name": user.name, "email": user.email}
    )
    security_form = SecurityForm(
        request.POST if action == "security" else None,
        initial={"two_factor_mode": user.two_factor_mode, "login_notification": user.login_notification},
    )
    try:
        if action == "profile" and profile.is_valid():
            services.user_update(actor=user, target=user, **profile.cleaned_data)
            messages.success(request, _("Your name and email address have been saved."))
            return redirect("tenants:account")
        if action == "security" and security_form.is_valid():
            services.user_security_update(user=user, **security_form.cleaned_data)
            messages.success(request, _("Your security settings have been saved."))
            return redirect("tenants:account")
    except ValidationError as exc:
        user.refresh_from_db()
        apply_service_errors(profile if action == "profile" else security_form, exc)
    history = paginate(request, selectors.login_history_for(user=user), per_page=PAGE_SIZE)
    for entry in history:
        entry.browser = selectors.describe_user_agent(entry.user_agent)
    context = {
        "profile_form": profile,
        "security_form": security_form,
        "history": history,
        "history_days": settings.PORTAL_LOGIN_HISTORY_DAYS,
        "tokens": selectors.api_token_list(user=user),
        "token_form": ApiTokenForm(),
        "new_token": request.session.pop("tenants.new_api_token", None),
        "now": timezone.now(),
    }
    return render(request, "tenants/account.html", context)


@login_required
@require_POST
def api_token_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    key = None
    if form.is_valid():
        try:
            key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at(timezone.now())
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
    if key is None:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(reverse("tenants:account") + "#api-token")
    # The key goes through the session once, so a reload of the account page does not show it again.
    request.session["tenants.new_api_token"] = key
    messages.success(request, _("A new API token has been created. Copy it now: it is shown only once."))
    return redirect(reverse("tenants:account") + "#api-token")


@login_required
@require_http_methods(["GET", "POST"])
def api_token_delete_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.access_api_token(user=request.user, pk=token_id)
    if request.method == "POST":
        services.api_token_delete(user=request.user, token=token)
        messages.success(
            request,
            _("The API token %(name)s has been deleted. Programs using it can no longer connect.")
            % {"name": token.name},
        )
        return redirect(reverse("tenants:account") + "#api-token")
    return render(request, "tenants/api_token_delete.html", {"token": token})


# ---------------------------------------------------------------- invitation and password reset


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    user = services.invitation_user(token)
    if user is None:
        context = {"hours": settings.PORTAL_INVITATION_HOURS}
        return render(request, "tenants/invitation_invalid.html", context, status=410)
    form = InvitationAcceptForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Your password is set. Log in with your email address and the new password."))
            return redirect("tenants:login")
    return render(request, "tenants/invitation_accept.html", {"form": form, "invited": user})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "tenants/password_reset_form.html"
    email_template_name = "tenants/email/password_reset.txt"
    subject_template_name = "tenants/email/password_reset_subject.txt"
    success_url = reverse_lazy("tenants:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "tenants/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = PortalSetPasswordForm
    template_name = "tenants/password_reset_confirm.html"
    success_url = reverse_lazy("tenants:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "tenants/password_reset_complete.html"


# ---------------------------------------------------------------- user management (admins)


@login_required
@require_http_methods(["GET"])
def user_list_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    search = UserSearchForm(request.GET or None)
    term = search.cleaned_data.get("q", "") if search.is_valid() else ""
    users = paginate(request, selectors.user_list(operator=request.operator, search=term), per_page=PAGE_SIZE)
    count = selectors.user_count(operator=request.operator)
    limit = settings.PORTAL_MAX_ACCOUNTS_PER_OPERATOR
    context = {"search": search, "term": term, "users": users, "count": count, "limit": limit, "full": count >= limit}
    return render(request, "tenants/user_list.html", context)


@sensitive_post_parameters("password1", "password2")
@login_required
@require_http_methods(["GET", "POST"])
def user_create_view(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.user_create(
                operator=request.operator,
                actor=request.user,
                email=data["email"],
                name=data["name"],
                role=data["role"],
                password=form.initial_password,
            )
        except (ValidationError, PermissionDenied) as exc:
            apply_service_errors(form, _as_validation_error(exc))
        else:
            if form.initial_password:
                text = _("Added %(email)s. Tell them the initial password; they must change it at first login.")
            else:
                text = _("Added %(email)s and mailed an invitation link, valid for %(hours)d hours.")
            messages.success(request, text % {"email": created.email, "hours": settings.PORTAL_INVITATION_HOURS})
            return redirect("tenants:user_list")
    count = selectors.user_count(operator=request.operator)
    limit = settings.PORTAL_MAX_ACCOUNTS_PER_OPERATOR
    return render(request, "tenants/user_form.html", {"form": form, "full": count >= limit, "limit": limit})


@sensitive_post_parameters("current_password")
@login_required
@require_http_methods(["GET", "POST"])
def user_edit_view(request: HttpRequest, user_id: int) -> HttpResponse:
    target = access_user(operator=request.operator, user=request.user, pk=user_id, write=True)
    is_self = target.pk == request.user.pk
    keeps_role = is_self or target.is_admin  # docs/product.md §1.3: the admin role moves only through staff
    initial = {"name": target.name, "email": target.email, "role": target.role}
    form = UserEditForm(request.POST or None, initial=initial, is_self=is_self, target_is_admin=target.is_admin)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                actor=request.user,
                target=target,
                name=data["name"],
                email=data["email"],
                role=None if keeps_role else data["role"],
                current_password=data["current_password"],
            )
        except (ValidationError, PermissionDenied) as exc:
            target.refresh_from_db()
            apply_service_errors(form, _as_validation_error(exc))
        else:
            messages.success(request, _("The account %(email)s has been updated.") % {"email": target.email})
            return redirect("tenants:user_list")
    return _user_form_page(request, target, form, UserPasswordSetForm())


def _user_form_page(request: HttpRequest, target: User, form, password_form) -> HttpResponse:
    is_self = target.pk == request.user.pk
    context = {"form": form, "target": target, "is_self": is_self, "password_form": password_form}
    return render(request, "tenants/user_form.html", context)


@sensitive_post_parameters("new_password1", "new_password2")
@login_required
@require_POST
def user_password_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """The edit page's password part: set a (temporary) password now, or mail a reset link."""
    target = access_user(operator=request.operator, user=request.user, pk=user_id, write=True)
    edit_form = UserEditForm(initial={"name": target.name, "email": target.email, "role": target.role})
    if "send_reset" in request.POST:
        try:
            services.user_password_reset_send(actor=request.user, target=target)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("tenants:user_edit", user_id=target.pk)
        messages.success(
            request, _("A link to choose a new password was mailed to %(email)s.") % {"email": target.email}
        )
        return redirect("tenants:user_edit", user_id=target.pk)
    form = UserPasswordSetForm(request.POST)
    if form.is_valid():
        try:
            services.user_password_set(
                actor=request.user, target=target, new_password=form.cleaned_data["new_password1"]
            )
        except (ValidationError, PermissionDenied) as exc:
            apply_service_errors(form, _as_validation_error(exc))
        else:
            messages.success(
                request,
                _("The password of %(email)s was set. Tell them; they must change it at the next login.")
                % {"email": target.email},
            )
            return redirect("tenants:user_list")
    return _user_form_page(request, target, edit_form, form)


@login_required
@require_http_methods(["GET", "POST"])
def user_delete_view(request: HttpRequest, user_id: int) -> HttpResponse:
    target = access_user(operator=request.operator, user=request.user, pk=user_id, write=True)
    if target.pk == request.user.pk:
        messages.error(request, _("You cannot delete your own account."))
        return redirect("tenants:user_list")
    if request.method == "POST":
        try:
            services.user_delete(actor=request.user, target=target)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(_as_validation_error(exc).messages))
        else:
            messages.success(request, _("The account %(email)s has been deleted.") % {"email": target.email})
        return redirect("tenants:user_list")
    return render(request, "tenants/user_delete.html", {"target": target})


@login_required
@require_http_methods(["GET", "POST"])
def terms_view(request: HttpRequest) -> HttpResponse:
    """Accept the current terms of use (asked at the first login and again for each new version)."""
    from .terms import current_terms_version, terms_consent_give, terms_consent_of

    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    error = ""
    if request.method == "POST":
        if request.POST.get("agree") != "1":
            error = _("Tick the box to accept the terms of use.")
        else:
            try:
                terms_consent_give(user=request.user, version=request.POST.get("version", ""))
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("Thank you. You accepted the terms of use."))
                return redirect(next_url or "home")
    context = {
        "version": current_terms_version(),
        "consent": terms_consent_of(user=request.user),
        "terms_url": getattr(settings, "PORTAL_TERMS_URL", ""),
        "next": next_url,
        "error": error,
    }
    return render(request, "tenants/terms.html", context, status=400 if error else 200)
