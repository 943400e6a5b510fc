"""The camera list's cards, written by one function instead of the template engine.

A page of `/` shows 24 cards; through `{% for %}` each card cost some 40 template nodes (variable
lookups, `{% if %}`, `{% translate %}`, two `|date`, an include), about a sixth of the page's Python
time at 5,000 cameras (docs/performance.md, "Lists at 5,000 cameras"). Here a card is one f-string:
every value from the database goes through `escape`, as the template's autoescaping did, and the
fixed texts are translated once a page, not once a card. The output is byte for byte what
`portal/home.html`'s loop wrote (tests/test_camera_list.py holds each variant of a card).
"""

from collections.abc import Iterable
from datetime import datetime
from html import escape  # what django.utils.html.escape does to a str, without its lazy-string wrapper

from django.conf import settings
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from devices.models import Device
from devices.selectors import CameraListPage
from licensing.selectors import today
from portal import query_shapes
from portal.web import url_for_each
from recording.media_selectors import LICENSE_MISSING, camera_list_with_media_state

# What a card reads of a camera's own fields (besides the annotations): its rows need no more columns, and
# a camera's stream credentials (encrypted fields, decrypted on load) are not fetched for a list.
CARD_FIELDS = ("name", "trouble_state")


def page_rows(listing: CameraListPage, ids: list[int], *, at: datetime) -> list[Device]:
    """The rows of the cameras `ids` of `listing` (a page of it), in the list's order, for `camera_cards`:
    the user's visibility applied again, with `room_name`, `building_name`, `shared_by`, `thumbnail_at`
    and `media_blocked` (the license state on the licensing day of `at`). One query, whose SQL each process
    compiles once per list and page size (portal/query_shapes.py)."""

    def build(stand_ins: list[int]):
        rows = listing.cameras.filter(pk__in=stand_ins).select_related(None).only(*CARD_FIELDS)
        rows = rows.annotate(room_name=F("room__name"), building_name=F("room__building__name"))
        return camera_list_with_media_state(rows, at=at)

    return query_shapes.rows(Device, ("camera-cards", *listing.key, today(at)), ids, build)


def _url(name: str, kwarg: str):
    url = url_for_each(name, kwarg)
    marker = 987_654_321_012
    head, _, tail = url(marker).partition(str(marker))
    head, tail = escape(head), escape(tail)  # an id's digits need no escaping
    return lambda pk: f"{head}{int(pk)}{tail}"


def camera_cards(cameras: Iterable[Device]) -> SafeString:
    """The cards of `cameras` (rows of `page_rows`), in the active language and time zone."""
    live = _url("recording:live", "camera_id")
    thumbnail = _url("recording:thumbnail", "camera_id")
    player = _url("recording:player", "camera_id")
    detail = _url("devices:detail", "device_id")
    # `{% translate %}` writes its text as the catalogue has it (a template's literal is safe), and
    # `{% blocktranslate %}` escapes only the values it puts in: so do these.
    live_view, recordings = gettext("Live view"), gettext("Recordings")
    no_trouble = f'<span class="badge ok">{gettext("No trouble")}</span>'
    missing = gettext("No license: live view and recording stopped")
    expired = gettext("License expired: live view and recording stopped")
    no_picture = gettext("No picture yet")
    captured = gettext("Captured %(at)s")
    # get_trouble_state_display() hashes every lazy label of the choices on each call
    troubles = {value: escape(str(label)) for value, label in Device._meta.get_field("trouble_state").flatchoices}
    tz = timezone.get_current_timezone() if settings.USE_TZ else None
    cards = []
    for camera in cameras:
        pk, at, blocked = camera.pk, camera.thumbnail_at, camera.media_blocked
        if camera.shared_by:  # devices' own badge (and its translation): a shared camera is the rare card
            badge = render_to_string("devices/_shared_by.html", {"camera": camera})
            place = f'<div class="muted shared-by">{badge}</div>'
        else:
            place = f'<div class="muted">{escape(camera.building_name)} / {escape(camera.room_name)}</div>'
        if at is not None and tz is not None and timezone.is_aware(at):
            at = at.astimezone(tz)  # as `|date` sees it (template_localtime)
        if blocked == LICENSE_MISSING:
            state = missing
        elif blocked:
            state = expired
        elif at:  # |date:"Y-m-d H:i:s"
            state = captured % {"at": f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at:%H:%M:%S}"}
        else:
            state = no_picture
        if at and not blocked:  # |date:"U": the capture time's epoch seconds, which busts the browser's cache
            thumb = f'<img class="camera-thumb" src="{thumbnail(pk)}?v={int(at.timestamp())}" alt="" loading="lazy">'
        else:
            thumb = '<div class="camera-thumb"></div>'
        if camera.trouble_state:
            label = troubles.get(camera.trouble_state) or escape(camera.trouble_state)
            trouble = f'<span class="badge trouble">{label}</span>'
        else:
            trouble = no_trouble
        cards.append(
            '\n  <div class="card camera-card">\n'
            f"    {place}\n"
            # aria-hidden: the "Live view" link below is the accessible one
            f'    <a href="{live(pk)}" class="camera-thumb-link" aria-hidden="true" tabindex="-1">\n'
            f"      {thumb}\n"
            "    </a>\n"
            f'    <div class="muted thumb-time">{state}</div>\n'
            f'    <strong><a href="{detail(pk)}">{escape(camera.name)}</a></strong>\n'
            f'    <div class="actions"><a href="{live(pk)}">{live_view}</a> · '
            f'<a href="{player(pk)}">{recordings}</a></div>\n'
            f"    <div>{trouble}</div>\n"
            "  </div>\n  "
        )
    return mark_safe("".join(cards))  # noqa: S308 - every value above is escaped
