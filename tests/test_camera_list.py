"""The camera list (`/`): one page at a time, by building and camera name, license state per camera."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from licensing.models import License
from portal.views import CAMERA_PAGE_SIZE
from recording.models import CameraRecording
from tests.conftest import client_for
from tests.factories import BuildingFactory, CameraFactory, RoomFactory
from tests.licensing.factories import give_camera_licenses
from tests.sharing.factories import make_share


def _names(body: str) -> list[str]:
    return re.findall(r'<strong><a href="/devices/\d+/">([^<]+)</a></strong>', body)


def _get(user, query: str = "", **headers) -> str:
    response = client_for(user).get(reverse("home") + query, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_one_page_of_cameras_and_keeps_the_filter_on_the_next(alpha):
    for i in range(CAMERA_PAGE_SIZE + 5):
        CameraFactory(room=alpha.room, name=f"Hall {i:02d}")
    first = _get(alpha.viewer, f"?building={alpha.building.pk}")
    assert len(_names(first)) == CAMERA_PAGE_SIZE
    assert f"{CAMERA_PAGE_SIZE + 6} cameras" in first
    assert f"?building={alpha.building.pk}&amp;page=2" in first
    second = _get(alpha.viewer, f"?building={alpha.building.pk}&page=2")
    assert len(_names(second)) == 6
    assert not set(_names(first)) & set(_names(second))


def test_it_lists_one_building_and_searches_by_camera_name(alpha):
    annex = RoomFactory(building=BuildingFactory(operator=alpha.operator, name="Annex"), name="Lobby")
    CameraFactory(room=annex, name="Annex Door")
    CameraFactory(room=annex, name="Annex Parking")
    assert set(_names(_get(alpha.viewer))) == {"Alpha Cam", "Annex Door", "Annex Parking"}
    assert set(_names(_get(alpha.viewer, f"?building={annex.building_id}"))) == {"Annex Door", "Annex Parking"}
    assert _names(_get(alpha.viewer, f"?building={annex.building_id}&q=park")) == ["Annex Parking"]
    assert _names(_get(alpha.viewer, "?q=alpha")) == ["Alpha Cam"]


def test_another_operators_building_is_no_choice_and_shows_nothing_of_it(alpha, bravo):
    body = _get(alpha.viewer, f"?building={bravo.building.pk}")
    assert "Select a valid choice" in body
    assert "Bravo" not in body
    assert "Alpha Cam" in body  # the filter that did not validate is left out


def test_a_shared_camera_is_listed_but_not_under_one_of_our_buildings(alpha, bravo):
    make_share(bravo, alpha.operator, alpha.admin)
    assert "Bravo Cam" in _names(_get(alpha.admin))
    assert _names(_get(alpha.admin, f"?building={alpha.building.pk}")) == ["Alpha Cam"]


def test_no_match_says_so_in_both_languages(alpha):
    body = _get(alpha.viewer, "?q=nothing-like-this")
    assert "No camera matches this building and name." in body and not _names(body)
    body = _get(alpha.viewer, "?q=nothing-like-this", HTTP_ACCEPT_LANGUAGE="ja")
    assert "この建物・カメラ名に当てはまるカメラはありません。" in body
    assert "すべての建物" in body


def test_thumbnails_load_lazily_and_an_expired_license_shows_no_picture(alpha):
    expired = CameraFactory(room=alpha.room, name="Expired Cam")
    now = timezone.now()
    for camera in (alpha.camera, expired):
        CameraRecording.objects.create(operator=alpha.operator, camera=camera, thumbnail="t.jpg", thumbnail_at=now)
    active, old = give_camera_licenses(alpha.operator, count=2)
    today = timezone.localdate()
    License.objects.filter(pk=active.pk).update(device=alpha.camera, ends_on=today + timedelta(days=9))
    License.objects.filter(pk=old.pk).update(
        device=expired, starts_on=today - timedelta(days=40), ends_on=today - timedelta(days=1)
    )
    body = _get(alpha.viewer)
    thumbs = re.findall(
        r'<img class="camera-thumb" src="/recording/cameras/(\d+)/thumbnail.jpg[^"]*" alt="" (\S+)>', body
    )
    assert thumbs == [(str(alpha.camera.pk), 'loading="lazy"')]
    assert body.count("License expired: live view and recording stopped") == 1


def test_each_card_links_the_live_view_recordings_and_detail_of_its_own_camera(alpha):
    cameras = [alpha.camera] + [CameraFactory(room=alpha.room, name=f"Link {i}") for i in range(3)]
    body = _get(alpha.viewer)
    for camera in cameras:
        for name, arg in (
            ("recording:live", "camera_id"),
            ("recording:player", "camera_id"),
            ("devices:detail", "device_id"),
        ):
            assert f'href="{reverse(name, kwargs={arg: camera.pk})}"' in body


def test_url_for_each_reverses_as_reverse_does_under_a_script_prefix():
    from django.urls import get_script_prefix, set_script_prefix

    from portal.web import url_for_each

    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        live = url_for_each("recording:live", "camera_id")
        for pk in (1, 7, 10, 987_654_321_012, 2**40):
            assert live(pk) == reverse("recording:live", kwargs={"camera_id": pk})
        assert live(7) == "/portal/recording/cameras/7/live/"
    finally:
        set_script_prefix(before)


# The cards and the building select are written in Python (portal/camera_cards.py, devices.forms.PlainSelect);
# these hold them byte for byte to what the template loop and Django's own select template wrote.
OLD_CARD_LOOP = """{% load i18n %}{% for camera in cameras %}
  <div class="card camera-card">
    {% if camera.shared_by %}<div class="muted shared-by">{% include "devices/_shared_by.html" %}</div>{% else %}<div class="muted">{{ camera.room.building.name }} / {{ camera.room.name }}</div>{% endif %}
    <a href="{{ camera.live_url }}" class="camera-thumb-link" aria-hidden="true" tabindex="-1">{# the "Live view" link below is the accessible one #}
      {% if camera.thumbnail_at and not camera.media_blocked %}<img class="camera-thumb" src="{{ camera.thumbnail_url }}?v={{ camera.thumbnail_at|date:'U' }}" alt="" loading="lazy">{% else %}<div class="camera-thumb"></div>{% endif %}
    </a>
    <div class="muted thumb-time">{% if camera.media_blocked == "license_missing" %}{% translate "No license: live view and recording stopped" %}{% elif camera.media_blocked %}{% translate "License expired: live view and recording stopped" %}{% elif camera.thumbnail_at %}{% blocktranslate with at=camera.thumbnail_at|date:"Y-m-d H:i:s" %}Captured {{ at }}{% endblocktranslate %}{% else %}{% translate "No picture yet" %}{% endif %}</div>
    <strong><a href="{{ camera.detail_url }}">{{ camera.name }}</a></strong>
    <div class="actions"><a href="{{ camera.live_url }}">{% translate "Live view" %}</a> · <a href="{{ camera.player_url }}">{% translate "Recordings" %}</a></div>
    <div>{% if camera.trouble_state %}<span class="badge trouble">{{ camera.get_trouble_state_display }}</span>{% else %}<span class="badge ok">{% translate "No trouble" %}</span>{% endif %}</div>
  </div>
  {% endfor %}"""  # noqa: E501 - portal/home.html's loop as it was


def test_the_cards_are_what_the_template_wrote_for_every_kind_of_camera(alpha, bravo):
    from django.template import engines
    from django.utils import translation

    from devices.selectors import camera_list, camera_list_page
    from portal.camera_cards import camera_cards, page_rows
    from recording.media_selectors import camera_list_with_media_state

    now = timezone.now()
    today = timezone.localdate()
    alpha.building.name, alpha.room.name = "Main <Hall> & Co", 'Room "A"'
    alpha.building.save()
    alpha.room.save()
    fine = CameraFactory(room=alpha.room, name="Fine <b>cam</b> & 'quote'", trouble_state="network")
    expired = CameraFactory(room=alpha.room, name="Expired", trouble_state="storage")
    missing = CameraFactory(room=alpha.room, name="No license")
    no_picture = CameraFactory(room=alpha.room, name="No picture")
    for camera in (fine, expired, missing):
        CameraRecording.objects.create(operator=alpha.operator, camera=camera, thumbnail="t.jpg", thumbnail_at=now)
    licenses = give_camera_licenses(alpha.operator, count=4)
    for lic, camera in zip(licenses, (alpha.camera, fine, expired, no_picture), strict=True):
        License.objects.filter(pk=lic.pk).update(device=camera, ends_on=today + timedelta(days=9))
    License.objects.filter(device=expired).update(
        starts_on=today - timedelta(days=40), ends_on=today - timedelta(days=1)
    )
    bravo.operator.name = "Bravo & <Sons>"
    bravo.operator.save()
    make_share(bravo, alpha.operator, alpha.admin)
    old = engines["django"].from_string(OLD_CARD_LOOP)
    for language in ("en", "ja"):
        with translation.override(language):
            rows = list(camera_list_with_media_state(camera_list(operator=alpha.operator, user=alpha.admin)))
            assert len(rows) == 6 and {bool(r.shared_by) for r in rows} == {True, False}
            assert {r.media_blocked for r in rows} == {"", "license_expired", "license_missing"}
            for camera in rows:
                camera.live_url = reverse("recording:live", kwargs={"camera_id": camera.pk})
                camera.thumbnail_url = reverse("recording:thumbnail", kwargs={"camera_id": camera.pk})
                camera.player_url = reverse("recording:player", kwargs={"camera_id": camera.pk})
                camera.detail_url = reverse("devices:detail", kwargs={"device_id": camera.pk})
            # The page's own rows (its kept query, portal/query_shapes.py) make the cards the template made
            # of the ORM's rows.
            listing = camera_list_page(operator=alpha.operator, user=alpha.admin)
            page = page_rows(listing, list(listing.ids), at=timezone.now())
            assert [r.pk for r in page] == [r.pk for r in rows]
            assert camera_cards(page) == old.render({"cameras": rows})
    body = _get(alpha.admin)
    assert "Fine &lt;b&gt;cam&lt;/b&gt; &amp; &#x27;quote&#x27;" in body and "<b>cam" not in body
    assert "Main &lt;Hall&gt; &amp; Co / Room &quot;A&quot;" in body and "shared by Bravo &amp; &lt;Sons&gt;" in body


def test_the_building_select_is_what_djangos_template_wrote(alpha):
    from django import forms

    from buildings.selectors import building_choices
    from devices.forms import CameraFilterForm, PlainSelect

    BuildingFactory(operator=alpha.operator, name='Annex <&> "2"')
    buildings = building_choices(operator=alpha.operator, user=alpha.admin)
    for data in (None, {"building": str(alpha.building.pk)}, {"building": "999999"}, {"building": "x", "q": "a"}):
        form = CameraFilterForm(data, buildings=buildings)
        form.filters()
        ours = form["building"].as_widget()
        form.fields["building"].widget = forms.Select(choices=form.fields["building"].choices)
        # The page wrote it through devices/widgets/select.html before: Django's, option by option, with
        # the file's final newline.
        assert ours == form["building"].as_widget() + "\n"
        assert ('aria-invalid="true"' in ours) == (data is not None and data["building"] != str(alpha.building.pk))
    choices = [(1, "a"), (None, "b"), ("<2>", "<c> & d"), (1, "a again")]
    attrs = {"data-x": "<a>", "disabled": True, "hidden": False}
    plain, django = PlainSelect(attrs=attrs, choices=choices), forms.Select(attrs=attrs, choices=choices)
    for value in (None, "", 1, "1", [1, 1], "<2>"):
        assert plain.render("n<", value, {"id": "i"}) == django.render("n<", value, {"id": "i"}) + "\n"


def test_the_filter_form_is_what_djangos_templates_wrote_in_both_languages(alpha):
    from django import forms
    from django.utils import translation

    from buildings.selectors import building_choices
    from devices.forms import CameraFilterForm

    class DjangoSearchInput(forms.TextInput):
        input_type = "search"

    BuildingFactory(operator=alpha.operator, name='Annex <&> "2"')
    buildings = building_choices(operator=alpha.operator, user=alpha.admin)
    variants = (
        None,
        {"q": 'a "b" <c> & d'},
        {"building": str(alpha.building.pk), "q": ""},
        {"building": "999999", "q": "x"},  # an error: Django's template writes it
        {"q": "y" * 65},
    )
    for language in ("en", "ja"):
        with translation.override(language):
            for data in variants:
                form = CameraFilterForm(data, buildings=buildings)
                form.filters()
                ours = form.as_div()
                form.fields["building"].widget = forms.Select(choices=form.fields["building"].choices)
                form.fields["q"].widget = DjangoSearchInput(attrs=form.fields["q"].widget.attrs)
                theirs = forms.Form.as_div(form)
                assert ours == theirs, (language, data)
                assert ours.count('type="search"') == 1 and 'type="text"' not in ours
