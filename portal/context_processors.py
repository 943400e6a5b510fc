from django.conf import settings
from django.utils.translation import gettext as _


def portal(request) -> dict:
    return {
        "portal_version": "0.1.0",
        "operator": getattr(request, "operator", None),
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
        "footer_links": footer_links(),
    }


def footer_links() -> list[tuple[str, str]]:
    """The footer's configured links (docs/product.md §1.9): terms, privacy, access information; empty ones left out."""
    links = [
        (_("Terms of use"), settings.PORTAL_TERMS_URL),
        (_("Privacy policy"), settings.PORTAL_PRIVACY_URL),
        (_("Handling of access information"), settings.PORTAL_ACCESS_INFO_URL),
    ]
    return [(label, url) for label, url in links if url]
