"""Portal-wide pages: home (camera overview), health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from devices.selectors import camera_list
from recording.media_selectors import camera_list_with_thumbnails


@login_required
def home(request):
    operator = request.operator
    context = {
        # Each camera with its latest motion thumbnail and capture time (recording app).
        "cameras": camera_list_with_thumbnails(camera_list(operator=operator, user=request.user)),
    }
    return render(request, "portal/home.html", context)


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
