"""Terms-of-use consent (manual 001, the customer's first-login mail): each user accepts the current
version (settings.PORTAL_TERMS_VERSION) once; a new version asks again. An empty version asks nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import TermsConsent, User


def current_terms_version() -> str:
    return str(getattr(settings, "PORTAL_TERMS_VERSION", "") or "")


def terms_consent_of(*, user: User) -> TermsConsent | None:
    """The user's consent to the current version, None when still to give (or none is asked)."""
    version = current_terms_version()
    if not version:
        return None
    return TermsConsent.objects.filter(user=user, version=version).first()


def terms_consent_needed(*, user: User) -> bool:
    return bool(current_terms_version()) and terms_consent_of(user=user) is None


def terms_consent_give(*, user: User, version: str) -> TermsConsent:
    """Record `user`'s consent to `version`, which must be the current one (an unknown or earlier version
    is refused with nothing saved). Giving it twice keeps the first time."""
    current = current_terms_version()
    if not current or version != current:
        raise ValidationError(
            {
                "version": [
                    _("Unknown terms version %(version)s: accept the current terms of use.") % {"version": version}
                ]
            },
            code="unknown_terms_version",
        )
    try:
        with transaction.atomic():
            consent, _created = TermsConsent.objects.get_or_create(user=user, version=current)
    except IntegrityError:  # the same consent from two tabs at once
        consent = TermsConsent.objects.get(user=user, version=current)
    return consent
