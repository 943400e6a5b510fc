from django.conf import settings


def portal(request) -> dict:
    return {
        "portal_version": "0.1.0",
        "operator": getattr(request, "operator", None),
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
    }
