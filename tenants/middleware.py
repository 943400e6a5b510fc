"""Resolve the operator once per request, and hold users to a first-login password change."""

from django.shortcuts import redirect
from django.urls import reverse


def operator_for(user):
    return user.operator if user is not None and user.is_authenticated else None


class OperatorMiddleware:
    """Sets `request.operator`: the tenant every query of this request is scoped to."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Session users are known here. DRF authenticates tokens later, inside the view; its
        # permission class (tenants.permissions) sets the operator again after that.
        request.operator = operator_for(request.user)
        return self.get_response(request)


class ForcePasswordChangeMiddleware:
    """A user with an initial / temporary password can only change it (or log out) until they do."""

    ALLOWED_PREFIXES = ("/static/", "/i18n/", "/healthz", "/accounts/logout", "/accounts/password/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse
                from django.utils.translation import gettext as _

                return JsonResponse({"detail": _("Change your initial password first.")}, status=403)
            return redirect(reverse("tenants:password_change") + "?first=1")
        return self.get_response(request)


class TermsConsentMiddleware:
    """A user who has not accepted the current terms of use (tenants/terms.py) sees only the consent
    page (or logs out); the API answers 403 with the version to accept at POST /api/v1/terms/."""

    ALLOWED_PREFIXES = ("/static/", "/i18n/", "/healthz", "/accounts/logout", "/accounts/terms/", "/api/v1/terms/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.ALLOWED_PREFIXES):
            from .terms import current_terms_version, terms_consent_needed

            if terms_consent_needed(user=user):
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse
                    from django.utils.translation import gettext as _

                    body = {"detail": _("Accept the terms of use first."), "terms_version": current_terms_version()}
                    return JsonResponse(body, status=403)
                from django.utils.http import urlencode

                return redirect(reverse("tenants:terms") + "?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)
