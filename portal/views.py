"""Portal-wide pages: home (camera overview), health check."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from buildings.selectors import building_choices
from devices.forms import CameraFilterForm
from devices.selectors import camera_list
from portal.web import GET, paginate, url_for_each
from recording.media_selectors import camera_list_with_media_state

CAMERA_PAGE_SIZE = 24  # one screen of cards: the list's cost stays the same with 50 or 5,000 cameras
CARD_URLS = (  # (attribute set on each camera of the page, URL name, its id argument)
    ("live_url", "recording:live", "camera_id"),
    ("thumbnail_url", "recording:thumbnail", "camera_id"),
    ("player_url", "recording:player", "camera_id"),
    ("detail_url", "devices:detail", "device_id"),
)


@login_required
@GET
def home(request):
    """The camera list: one page of the cameras the user may see, by building and name (the
    manual's camera list is per building), each with its thumbnail and license state."""
    operator = request.operator
    filter_form = CameraFilterForm(
        request.GET or None, buildings=building_choices(operator=operator, user=request.user)
    )
    building, search = filter_form.filters()
    cameras = camera_list(operator=operator, user=request.user, building=building, search=search)
    # Sorting every camera by building, room and name carries only ids (at 5,000 cameras a sort of whole
    # rows took five times as long); then the page's rows come with their thumbnail time and license
    # state as annotations of one query: the page costs the same queries at any size.
    page = paginate(request, cameras.values_list("pk", flat=True), per_page=CAMERA_PAGE_SIZE)
    page.object_list = list(camera_list_with_media_state(cameras.filter(pk__in=list(page.object_list))))
    # Each card links four pages of its camera: reversed once for the page, not once per card.
    urls = {attr: url_for_each(name, arg) for attr, name, arg in CARD_URLS}
    for camera in page.object_list:
        for attr, url in urls.items():
            setattr(camera, attr, url(camera.pk))
    context = {"filter_form": filter_form, "filtered": building is not None or bool(search), "cameras": page}
    return render(request, "portal/home.html", context)


@GET
def contact(request):
    """Whom to ask (docs/product.md §1.9): the configured address, phone and hours. Open without a login,
    since a locked-out user needs it most."""
    return render(request, "portal/contact.html", {"contact": contact_info()})


def contact_info() -> dict:
    return {
        "email": settings.PORTAL_CONTACT_EMAIL,
        "phone": settings.PORTAL_CONTACT_PHONE,
        "hours": settings.PORTAL_CONTACT_HOURS,
    }


@GET
def site_info_api(request):
    """GET /api/v1/site-info/: the footer's links and the contact, for API clients (no login needed)."""
    links = {
        "terms_url": settings.PORTAL_TERMS_URL,
        "privacy_url": settings.PORTAL_PRIVACY_URL,
        "access_info_url": settings.PORTAL_ACCESS_INFO_URL,
    }
    return JsonResponse({**links, "contact": contact_info()})


def healthz(request):
    """Liveness for load balancers: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db = "error"
    status = 200 if db == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "error", "database": db}, status=status)
