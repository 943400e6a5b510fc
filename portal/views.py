"""Portal-wide pages: home (camera overview), health check."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from buildings.selectors import building_choices
from devices import camera_order
from devices.forms import CameraFilterForm
from devices.selectors import camera_list_page, user_scope
from licensing import clock
from portal.camera_cards import camera_cards, page_rows
from portal.web import GET, paginate

CAMERA_PAGE_SIZE = 24  # one screen of cards: the list's cost stays the same with 50 or 5,000 cameras


@login_required
@GET
def home(request):
    """The camera list: one page of the cameras the user may see, by building and name (the
    manual's camera list is per building), each with its thumbnail and license state."""
    operator = request.operator
    scope = user_scope(request.user)  # the user's camera limit, asked once for the choices and the list
    buildings = building_choices(operator=operator, user=request.user)
    # The options' rows are kept in the process until a camera, room, building or share changes (the list
    # order's generation token); a chosen building is still looked up in `buildings`.
    rows = camera_order.kept(
        "building-choices",
        lambda: tuple(buildings.values_list("pk", "name")),
        operator_id=operator.pk,
        scope=scope,
    )
    filter_form = CameraFilterForm(request.GET or None, buildings=buildings, building_rows=rows)
    building, search = filter_form.filters()
    # The ids of every camera in the list's order are kept between requests (devices/camera_order.py): at
    # 5,000 cameras, sorting and counting them all was most of the page's cost. The page's rows are one
    # query by id, with the user's visibility applied again, their thumbnail time and license state; its
    # SQL is compiled once per list and page size in each process (portal/query_shapes.py).
    listing = camera_list_page(operator=operator, user=request.user, building=building, search=search, scope=scope)
    page = paginate(request, listing.ids, per_page=CAMERA_PAGE_SIZE)
    page.object_list = page_rows(listing, list(page.object_list), at=clock.now())
    context = {
        "filter_form": filter_form,
        "filtered": building is not None or bool(search),
        "cameras": page,
        "camera_cards": camera_cards(page.object_list),
    }
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
