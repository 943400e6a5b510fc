"""The room's mail cooldown in Chromium: a cooldown below 1 minute is refused on the page with the reason and
nothing is saved; a valid one is saved and shown on the building's list; the page passes axe-core."""

import re

import pytest
from django.templatetags.static import static
from django.urls import reverse

from recording.models import NotificationSetting
from recording.services import notification_setting_update
from tests.browser.test_foundation_flow import log_in
from tests.conftest import build_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_the_rooms_cooldown_in_the_browser(page, live_server, transactional_db, screenshot):
    tenant = build_tenant("Alpha", "alpha")
    notification_setting_update(
        user=tenant.admin, room=tenant.room, notification_type="all", recipients=["kanri@example.com"]
    )
    log_in(page, live_server, tenant.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + reverse("recording:notification_room", kwargs={"room_id": tenant.room.pk}))
    field = page.get_by_label("Mail cooldown (minutes)")
    assert field.input_value() == "10"

    field.fill("0")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("A mail cooldown below 1 minute is not possible").wait_for()
    screenshot("mail-cooldown-refused")
    page.add_script_tag(url=static("vendor/axe-core/axe.min.js"))
    violations = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => r.violations.map(v => v.id))"
    )
    assert violations == []
    assert NotificationSetting.objects.get(room=tenant.room).cooldown_minutes == 10

    page.get_by_label("Mail cooldown (minutes)").fill("15")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/notifications/buildings/\d+/$"))
    row = page.get_by_role("row", name=re.compile("Alpha Entrance"))
    assert "15 minutes" in row.inner_text()
    assert NotificationSetting.objects.get(room=tenant.room).cooldown_minutes == 15
