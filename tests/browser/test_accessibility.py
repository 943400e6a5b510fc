"""Every page a user reaches passes axe-core's WCAG 2 A/AA rules, in Japanese and English, at phone and
desktop width.

The pages come from the live URL configuration, like the isolation walk (tests/test_tenant_isolation.py):
every route is opened once with the Django test client as the user who would open it, with ids of one
world that has something on every screen. A route that answers an HTML page is checked in Chromium
with axe-core (served by the portal itself from static/vendor/axe-core, npm's axe-core 4). A route
that answers anything else must be listed in NOT_PAGES with the reason, or in FLOWS with the clicks that
reach it; so a page added tomorrow is checked without anyone remembering to list it.

One browser, one context per user, language and width; each language/width pair is one test, which
reports every violation of every page at once (and writes them to artifacts/axe-<language>-<width>.json).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.test_tenant_isolation import Route, all_routes
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

# Routes that are not pages, each with the reason. Answers that are not HTML (images, video, JSON,
# CSV, ZIP) need no entry: the survey finds them by their content type.
NOT_PAGES: dict[str, str] = {
    "healthz": "plain text for the load balancer",
    "tenants:logout": "POST only (the menu's button)",
    "tenants:two_factor_resend": "POST only (the verify page's button)",
    "tenants:api_token_create": "POST only: answers with the account page, checked as tenants:account",
    "tenants:user_password": "POST only (the edit page's buttons)",
    "devices:trouble_refresh": "POST only (the device page's button)",
    "licensing:proxy_end": "POST only (the proxy banner's button)",
    "licensing:proxy_start": "POST only: lands on the customer's camera list, checked in FLOWS",
    "recording:export_create": "POST only: redirects to the exports page",
    "recording:motion_endpoint": "a sensor's POST with the device secret, not a page",
    "recording:motion_secret_rotate": "POST only (the recording settings page's button)",
    "pos_link:links_delete": "POST only (the links page's form)",
    "pos_link:link_update": "POST only (the links page's form)",
    "pos_link:ubiregi_connect": "POST only: redirects to Ubiregi's OAuth page",
    "pos_link:ubiregi_callback": "Ubiregi's OAuth redirect back: redirects to the links page",
    "pos_link:webhook": "Smaregi's push, not a page",
    "pos_link:camera_segment": "JSON for the POS camera page's player",
    "congestion:camera_background": "POST only (the settings page's upload form)",
    "congestion:csv_all": "a ZIP download (redirects back without a month)",
    "congestion:camera_csv": "a CSV download (redirects back without a month)",
    "congestion:group_csv": "a CSV download (redirects back without a month)",
    "recording:clip_download": "a video download (404 without a clip selection)",
    "recording:snapshot": "a JPEG (404 while the camera has no picture)",
    "recording:thumbnail": "a JPEG (404 while the camera has no picture)",
    "recording:segment_file": "an MP4 (the test world's rows have no file)",
    "recording:clip_file": "an MP4 (the test world's rows have no file)",
    "recording:export_download": "an MP4 (the test world's rows have no file)",
    "recording:live_media": "HLS playlist and parts behind a signed token",
}

# Pages reached only through a redirect or a form: checked after these steps instead of a plain GET.
FOLLOWED = {"tenants:password_reset_confirm"}  # Django's reset link redirects to its set-password form

# Who opens a route: the customer's admin unless listed (a partner's pages, staff pages, public pages).
PARTNER_ROUTES = {
    "licensing:partner",
    "licensing:customers",
    "licensing:customer_add",
    "licensing:customer_detail",
    "licensing:customer_email",
    "licensing:assign",
    "licensing:assign_confirm",
    "licensing:license_renew",
    "licensing:history",
    "licensing:expiries",
}
STAFF_ROUTES = {"recording:staff_mails", "recording:staff_ingest"}
ANONYMOUS_ROUTES = {
    "tenants:login",
    "tenants:password_reset",
    "tenants:password_reset_done",
    "tenants:password_reset_confirm",
    "tenants:password_reset_complete",
    "tenants:invitation_accept",
}
# A route whose id must be another object of the world than the usual one for its kind.
ROUTE_IDS = {"devices:channel_add": {"device_id": "recorder_id"}}


@dataclass
class Page:
    name: str  # the route's name, or what an extra page or a flow shows
    url: str
    user: str  # a key of World.users


@dataclass
class World:
    users: dict[str, object]
    ids: dict[str, object]
    reset_token: str = ""
    pages: list[Page] = field(default_factory=list)


def build_world() -> World:
    """Alpha with something on every screen: licensed cameras, an edge recorder, recordings, congestion
    with a public image, a group with a web site, POS links of both providers with a transaction, a
    share, and its partner (with stock to assign) and a platform staff user."""
    from congestion.models import Analysis, CongestionCamera
    from devices.models import DeviceKind
    from embeds.services import site_save
    from licensing.models import License, LicenseKind
    from licensing.services import stock_add
    from pos_link.models import Provider
    from tenants.models import Role, TwoFactorMode
    from tenants.services import api_token_create, invitation_token
    from tests.conftest import build_tenant
    from tests.congestion.conftest import give_option, register
    from tests.congestion.factories import group_of, hours_rule_of
    from tests.embeds.conftest import publish
    from tests.factories import CameraFactory, UserFactory
    from tests.licensing.factories import give_camera_licenses
    from tests.pos_link.factories import give_pos_options, link_of, transaction_of
    from tests.recording.media import clip_of, export_of, segment_of
    from tests.sharing.factories import share_of

    alpha = build_tenant("Alpha", "alpha")
    licenses = give_camera_licenses(alpha.operator, count=3)
    License.objects.filter(pk=licenses[0].pk).update(device=alpha.camera)
    today = timezone.localdate()
    License.objects.filter(pk=licenses[1].pk).update(ends_on=today + timedelta(days=10))  # ends soon
    License.objects.filter(pk=licenses[2].pk).update(ends_on=today - timedelta(days=3))  # ended
    partner_admin = alpha.operator.partner.users.first()
    stock_add(partner=alpha.operator.partner, kind=LicenseKind.EDGE_STORAGE, months=12, count=2)
    recorder = CameraFactory(room=alpha.room, kind=DeviceKind.RECORDER, name="Alpha NVR")
    troubled = CameraFactory(room=alpha.room, name="Alpha Cam 2", trouble_state="network", trouble_since=timezone.now())
    staff = UserFactory(operator=alpha.operator, email="staff@example.com", role=Role.ADMIN, is_staff=True)
    invited = UserFactory(operator=alpha.operator, email="invited@example.com", role=Role.VIEWER)
    invited.set_unusable_password()
    invited.save()
    UserFactory(operator=alpha.operator, email="twostep@example.com", two_factor_mode=TwoFactorMode.ALWAYS)

    segment, clip, export = segment_of(alpha), clip_of(alpha), export_of(alpha)

    give_option(alpha.operator, 2)
    cc = register(alpha)
    publish(cc, count=3)
    CongestionCamera.objects.filter(pk=register(troubled).pk).update(enabled=False, trouble="no_answer")
    now = timezone.now().replace(second=0, microsecond=0)
    for quarter, count in enumerate([3, 5, 2, 4]):
        minute = now - timedelta(minutes=15 * (quarter + 1))
        Analysis.objects.create(
            operator=alpha.operator, congestion_camera=cc, minute=minute, status="done", count=count, captured_at=minute
        )
    group = group_of(alpha)
    rule = hours_rule_of(alpha)
    site = site_save(user=alpha.admin, group=group, enabled=True, name="Alpha Lobby site")

    give_pos_options(alpha.operator)
    transaction = transaction_of(alpha)
    for number, kind in enumerate(["cancel", "modify", "delete"], start=9002):  # each kind has its badge
        transaction_of(alpha, provider_id=str(number), kind=kind)
    link_of(alpha, provider=Provider.UBIREGI, contract_id="ubiregi-alpha", terminal_id="7")
    share = share_of(alpha)
    api_token_create(user=alpha.admin, name="Alpha token")

    ids = {
        "building_id": alpha.building.pk,
        "room_id": alpha.room.pk,
        "device_id": alpha.camera.pk,
        "camera_id": alpha.camera.pk,
        "sensor_id": alpha.sensor.pk,
        "recorder_id": recorder.pk,
        "user_id": alpha.viewer.pk,
        "customer_id": alpha.operator.pk,
        "license_id": licenses[0].pk,
        "share_id": share,
        "link_id": transaction.link_id,
        "transaction_id": transaction.pk,
        "segment_id": segment,
        "clip_id": clip,
        "export_id": export,
        "congestion_camera_id": cc.pk,
        "group_id": group.pk,
        "group_embed_key": group.embed_key,
        "hours_rule_id": rule.pk,
        "token_id": alpha.admin.api_tokens.order_by("-pk").first().pk,
        "embed_key": cc.embed_key,
        "site_key": site.key,
        "camera_index": 0,
        "token": invitation_token(invited),
        "uidb64": urlsafe_base64_encode(force_bytes(alpha.viewer.pk)),
        "connection_id": transaction.link.connection_id,
        "secret": "not-the-secret",
        "media_token": "not-a-token",
        "filename": "index.m3u8",
    }
    users = {"admin": alpha.admin, "viewer": alpha.viewer, "partner": partner_admin, "staff": staff, "anonymous": None}
    return World(users=users, ids=ids, reset_token=default_token_generator.make_token(alpha.viewer))


def user_of(route: Route) -> str:
    if route.name in ANONYMOUS_ROUTES or route.name.startswith("embed_public:"):
        return "anonymous"
    if route.name in PARTNER_ROUTES:
        return "partner"
    if route.name in STAFF_ROUTES:
        return "staff"
    return "admin"


def url_of(route: Route, world: World) -> str:
    kwargs = {p: world.ids[ROUTE_IDS.get(route.name, {}).get(p, p)] for p in route.params}
    if route.name == "tenants:password_reset_confirm":
        kwargs["token"] = world.reset_token
    return reverse(route.name, kwargs=kwargs)


# States that no route shows on a plain GET: error pages, another role's view, the group's embed.
EXTRA_PAGES: list[tuple[str, Callable[[World], str], str]] = [
    ("404 page", lambda w: "/no-such-page/", "admin"),
    ("403 page", lambda w: reverse("buildings:register"), "viewer"),
    ("camera list as a viewer", lambda w: reverse("home"), "viewer"),
    ("edge recorder page", lambda w: reverse("devices:detail", kwargs={"device_id": w.ids["recorder_id"]}), "admin"),
    (
        "group embed",
        lambda w: reverse("embed_public:page", kwargs={"embed_key": w.ids["group_embed_key"]}),
        "anonymous",
    ),
]


def _log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto(reverse("tenants:login"))
    page.locator("#id_username, input[name=username], input[type=email]").first.fill(email)
    page.locator("input[type=password]").first.fill(password)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("load")


def flow_login_error(page, world, check):
    _log_in(page, "alpha-admin@example.com", "wrong password")
    page.locator(".errorlist, .message.error, .errornote").first.wait_for()
    check("log-in with an error")


def flow_two_factor(page, world, check):
    _log_in(page, "twostep@example.com")
    page.wait_for_url(lambda url: reverse("tenants:two_factor_verify") in url)
    check("tenants:two_factor_verify")


def flow_register(page, world, check):
    page.goto(reverse("buildings:register"))
    page.locator("#id_contract_number, input[name=contract_number]").first.fill("SP-20261202")
    page.locator("input[name=mac]").first.fill("ac-de-48-00-11-99")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: reverse("buildings:register_building") in url)
    check("buildings:register_building")
    page.locator("input[name=new_building_name], input[type=text]").first.fill("Axe Mansion")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: reverse("buildings:register_room") in url)
    check("buildings:register_room")
    page.locator("input[name=room_name]").fill("Hall")
    page.locator("input[name=camera_name]").fill("Hall camera")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: reverse("buildings:register_confirm") in url)
    check("buildings:register_confirm")


def flow_rename_error(page, world, check):
    page.goto(reverse("buildings:rename", kwargs={"building_id": world.ids["building_id"]}))
    page.locator("form input[type=text]").first.fill("")
    page.locator("form input[type=text]").first.evaluate("i => i.removeAttribute('required')")
    page.locator("form button[type=submit]").last.click()
    page.locator(".errorlist").first.wait_for()
    check("rename with an error")


def flow_assign(page, world, check):
    page.goto(reverse("licensing:assign") + f"?customer_id={world.ids['customer_id']}")  # the email prefilled
    page.locator("#id_count").fill("1")
    page.locator("#id_count").press("Enter")
    page.locator(f'form[action="{reverse("licensing:assign_confirm")}"]').wait_for()  # shown at the same address
    check("licensing:assign_confirm")


def flow_proxy(page, world, check):
    page.goto(reverse("licensing:customer_detail", kwargs={"customer_id": world.ids["customer_id"]}))
    action = reverse("licensing:proxy_start", kwargs={"customer_id": world.ids["customer_id"]})
    page.locator(f'form[action="{action}"] button[type=submit]').click()
    page.wait_for_url(lambda url: "/licensing/partner/" not in url)
    check("a partner acting as the customer (proxy banner)")


# Steps that reach pages or states a plain GET does not: (user, steps). `check(name)` runs axe there.
FLOWS: list[tuple[str, Callable]] = [
    ("anonymous", flow_login_error),
    ("anonymous", flow_two_factor),
    ("admin", flow_register),
    ("admin", flow_rename_error),
    ("partner", flow_assign),
    ("partner", flow_proxy),
]
FLOW_PAGES = {
    "tenants:two_factor_verify",
    "buildings:register_building",
    "buildings:register_room",
    "buildings:register_confirm",
    "licensing:assign_confirm",
}


def page_routes() -> list[Route]:
    # The API, the schema pages and Django's admin site (platform staff) are not the portal's pages.
    return [r for r in all_routes() if not r.route.startswith(("api/", "staff/"))]


def survey(world: World) -> dict[str, str]:
    """Open every route with the test client; keep the HTML pages, return what the others answered."""
    clients: dict[str, Client] = {}
    unexplained = {}
    for route in page_routes():
        who = user_of(route)
        if who not in clients:
            clients[who] = Client()
            if world.users[who] is not None:
                clients[who].force_login(world.users[who])
        url = url_of(route, world)
        response = clients[who].get(url)
        kind = response.get("Content-Type", "")
        if route.name in NOT_PAGES or route.name in FLOW_PAGES:
            continue
        if (response.status_code == 200 or route.name in FOLLOWED) and kind.startswith("text/html"):
            world.pages.append(Page(route.name, url, who))
        elif response.status_code != 200:
            unexplained[route.name] = f"GET {url} as {who}: {response.status_code} {kind}"
    for name, url, who in EXTRA_PAGES:
        world.pages.append(Page(name, url(world), who))
    return unexplained


def run_axe(page) -> list[str]:
    page.add_script_tag(url=static("vendor/axe-core/axe.min.js"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"][:3]:
            why = node.get("failureSummary", "").splitlines()[-1].strip()
            lines.append(f"{violation['id']} ({violation['impact']}) {' '.join(node['target'])}: {why}")
    return lines


def test_the_lists_above_name_only_existing_routes(db):
    listed = set(NOT_PAGES) | FOLLOWED | FLOW_PAGES | set(ROUTE_IDS)
    names = {r.name for r in page_routes()}
    assert listed <= names, f"listed here but no longer routes: {sorted(listed - names)}"


# Each page in both languages and at both widths, in two runs instead of four: Japanese at phone width
# (how most of the portal's readers see it), English at desktop width. Two classes, so that pytest-xdist
# (`--dist loadscope`, bin/test) can run them in different workers.
class TestJapaneseAtPhoneWidth:
    def test_every_page_passes_axe(self, browser, live_server, media_in_tmp):
        every_page_passes_axe(browser, live_server, "ja", "phone")


class TestEnglishAtDesktopWidth:
    def test_every_page_passes_axe(self, browser, live_server, media_in_tmp):
        every_page_passes_axe(browser, live_server, "en", "desktop")


def every_page_passes_axe(browser, live_server, language: str, width: str) -> None:
    world = build_world()
    unexplained = survey(world)
    assert not unexplained, (
        f"routes that answer no page to a plain GET: check them through FLOWS or list them in NOT_PAGES "
        f"with the reason: {json.dumps(unexplained, indent=1)}"
    )
    report: dict[str, list[str]] = {}

    def new_page(who: str):
        context = browser.new_context(locale=language, viewport=WIDTHS[width], base_url=live_server.url)
        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        if world.users[who] is not None:
            client = Client()
            client.force_login(world.users[who])
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url})
        context.add_cookies(cookies)
        page = context.new_page()
        page.set_default_timeout(patience(15) * 1000)
        return page

    def check(page, name: str) -> None:
        lang = page.evaluate("document.documentElement.lang")
        if lang != language:
            report[name] = [f"the page is in {lang!r}, not {language!r}"]
        elif violations := run_axe(page):
            report[name] = [f"{page.url}: {line}" for line in violations]

    pages = {}
    try:
        for item in world.pages:
            if item.user not in pages:
                pages[item.user] = new_page(item.user)
            page = pages[item.user]
            page.goto(item.url)
            check(page, item.name)
        for who, flow in FLOWS:
            page = new_page(who)
            try:
                flow(page, world, lambda name, page=page: check(page, name))
            finally:
                page.context.close()
    finally:
        for page in pages.values():
            page.context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    checked = [p.url for p in world.pages] + [flow.__name__ for _who, flow in FLOWS]
    (ARTIFACTS / f"axe-{language}-{width}.json").write_text(
        json.dumps({"checked": checked, "violations": report}, indent=1, ensure_ascii=False)
    )
    assert not report, "\n".join(f"{name}: {line}" for name, lines in report.items() for line in lines)
