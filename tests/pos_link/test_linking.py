"""The link page: Smaregi checked before saving, Ubiregi OAuth2 through the fake's consent page,
the POS option rule, per-row update, bulk unlink with confirmation, roles and secrets."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection as db
from django.urls import reverse

from pos_link.models import PosConnection, PosLink
from pos_link.providers import http
from tests.conftest import client_for
from tests.factories import CameraFactory
from tests.pos_link.conftest import SMAREGI_CONTRACT, SMAREGI_TOKEN
from tests.pos_link.factories import give_pos_options, link_of
from tests.waiting import patience

pytestmark = pytest.mark.django_db

LINKS = reverse("pos_link:links")
ADD_SMAREGI = reverse("pos_link:smaregi_add")


def _smaregi_form(camera, **overrides):
    data = {"contract_id": SMAREGI_CONTRACT, "access_token": SMAREGI_TOKEN, "terminal_id": "1", "camera": camera.pk}
    data.update(overrides)
    return data


# ---------------------------------------------------------------- Smaregi


def test_smaregi_link_is_saved_after_smaregi_accepts_it(pos_alpha, smaregi):
    response = client_for(pos_alpha.admin).post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera), follow=True)
    link = PosLink.objects.get()
    assert (link.connection.contract_id, link.terminal_id, link.camera) == (SMAREGI_CONTRACT, "1", pos_alpha.camera)
    assert "Terminal 1 is linked to Alpha Cam" in response.content.decode()
    assert ("POST", "/access/") in smaregi.requests  # really asked the provider


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"contract_id": "no-such-contract"}, "契約IDが無効です"),
        ({"access_token": "wrong-token"}, "アクセストークンが無効です"),
    ],
)
def test_wrong_contract_or_token_is_refused_with_smaregi_reason_and_nothing_saved(
    pos_alpha, smaregi, overrides, reason
):
    response = client_for(pos_alpha.admin).post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, **overrides))
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not PosConnection.objects.exists() and not PosLink.objects.exists()


def test_unreachable_smaregi_saves_nothing_and_says_so(pos_alpha, smaregi):
    smaregi.fail_next("503")
    response = client_for(pos_alpha.admin).post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    assert "could not be reached" in response.content.decode()
    assert not PosLink.objects.exists()


def test_token_is_encrypted_in_the_database_and_never_shown(pos_alpha, smaregi):
    admin = client_for(pos_alpha.admin)
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM pos_link_posconnection")
        (stored,) = cursor.fetchone()
    assert SMAREGI_TOKEN not in stored and stored  # ciphertext at rest
    assert PosConnection.objects.get().access_token == SMAREGI_TOKEN
    for url in (LINKS, ADD_SMAREGI, reverse("pos_link:camera_dashboard", kwargs={"camera_id": pos_alpha.camera.pk})):
        assert SMAREGI_TOKEN not in admin.get(url).content.decode()
    # the failed form is re-rendered without the token either
    response = admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, contract_id="bad"))
    assert SMAREGI_TOKEN not in response.content.decode()


def test_same_terminal_cannot_be_linked_twice(pos_alpha, smaregi):
    admin = client_for(pos_alpha.admin)
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    response = admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    assert "already linked" in response.content.decode()
    assert PosLink.objects.count() == 1


def test_one_camera_takes_many_terminals(pos_alpha, smaregi):
    admin = client_for(pos_alpha.admin)
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, terminal_id="1"))
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, terminal_id="2"))
    assert sorted(PosLink.objects.filter(camera=pos_alpha.camera).values_list("terminal_id", flat=True)) == ["1", "2"]


# ---------------------------------------------------------------- the POS option


def test_without_a_pos_option_no_camera_is_offered_and_linking_is_refused(alpha, smaregi):
    admin = client_for(alpha.admin)
    page = admin.get(ADD_SMAREGI).content.decode()
    assert f'value="{alpha.camera.pk}"' not in page
    response = admin.post(ADD_SMAREGI, _smaregi_form(alpha.camera))
    assert not PosLink.objects.exists()
    assert "Select a valid choice" in response.content.decode()
    assert ("POST", "/access/") not in smaregi.requests  # refused before any provider call


def test_option_count_limits_the_cameras(pos_alpha, smaregi):
    second = CameraFactory(room=pos_alpha.room, name="Second Cam")
    admin = client_for(pos_alpha.admin)
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    page = admin.get(ADD_SMAREGI).content.decode()
    assert "Second Cam" not in page  # one option, already used by Alpha Cam
    admin.post(ADD_SMAREGI, _smaregi_form(second, terminal_id="2"))
    assert not PosLink.objects.filter(camera=second).exists()
    give_pos_options(pos_alpha.operator, count=1)
    assert "Second Cam" in admin.get(ADD_SMAREGI).content.decode()


def test_another_operators_camera_is_not_accepted(pos_alpha, bravo, smaregi):
    response = client_for(pos_alpha.admin).post(ADD_SMAREGI, _smaregi_form(bravo.camera))
    assert "Select a valid choice" in response.content.decode()
    assert not PosLink.objects.exists()


# ---------------------------------------------------------------- Ubiregi OAuth2


def _start_oauth(admin):
    response = admin.post(reverse("pos_link:ubiregi_connect"))
    assert response.status_code == 302
    return response["Location"]


def _consent(authorize_url: str) -> str:
    answer = http.call("GET", authorize_url, timeout=patience(2))  # the fake auto-approves: straight back with a code
    assert answer.status == 302
    return answer.headers["Location"]


def _callback_path(location: str) -> str:
    split = urlsplit(location)
    return f"{split.path}?{split.query}"


def test_ubiregi_oauth_flow_stores_encrypted_tokens_and_offers_terminals(pos_alpha, ubiregi):
    admin = client_for(pos_alpha.admin)
    authorize = _start_oauth(admin)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(ubiregi.url + "/oauth2/authorize")
    assert query["redirect_uri"] == ["http://testserver/pos/ubiregi/callback/"] and query["state"][0]
    back = _consent(authorize)
    response = admin.get(_callback_path(back), follow=True)
    assert "Alpha Cafe is connected" in response.content.decode()
    connection = PosConnection.objects.get(provider="ubiregi")
    assert connection.contract_id == "31"
    assert connection.terminals == [{"id": "31", "name": "Alpha Cafe"}, {"id": "32", "name": "Alpha Cafe Terrace"}]
    assert connection.access_token.startswith("ubi-at-") and connection.refresh_token.startswith("ubi-rt-")
    page = response.content.decode()
    assert connection.access_token not in page
    # the terminals are picked from the account's own list, its child store included: nothing to type
    assert f'value="{connection.pk}:31"' in page and f'value="{connection.pk}:32"' in page
    assert "Alpha Cafe Terrace (32)" in page and 'name="terminal_id"' not in page
    response = admin.post(
        reverse("pos_link:ubiregi_add"), {"terminal": f"{connection.pk}:32", "camera": pos_alpha.camera.pk}
    )
    assert response.status_code == 302
    assert PosLink.objects.get().terminal_id == "32"


def test_ubiregi_terminal_outside_the_accounts_list_is_not_accepted(pos_alpha, ubiregi):
    admin = client_for(pos_alpha.admin)
    admin.get(_callback_path(_consent(_start_oauth(admin))))
    connection = PosConnection.objects.get(provider="ubiregi")
    response = admin.post(
        reverse("pos_link:ubiregi_add"), {"terminal": f"{connection.pk}:77", "camera": pos_alpha.camera.pk}
    )
    assert "Select a valid choice" in response.content.decode() and not PosLink.objects.exists()


def test_ubiregi_callback_with_a_forged_state_is_refused(pos_alpha, ubiregi):
    admin = client_for(pos_alpha.admin)
    back = _consent(_start_oauth(admin))
    forged = back.replace("state=", "state=x")
    response = admin.get(_callback_path(forged), follow=True)
    assert "did not match this session" in response.content.decode()
    assert not PosConnection.objects.exists()
    # and the state is single use: the genuine answer after a failed one is refused too
    response = admin.get(_callback_path(back), follow=True)
    assert not PosConnection.objects.exists()


def test_ubiregi_callback_without_starting_is_refused(pos_alpha, ubiregi):
    response = client_for(pos_alpha.admin).get(
        reverse("pos_link:ubiregi_callback") + "?code=abc&state=abc", follow=True
    )
    assert "did not match this session" in response.content.decode()
    assert not PosConnection.objects.exists()


def test_ubiregi_denied_consent_is_reported(pos_alpha, ubiregi):
    ubiregi.auto_approve = False
    admin = client_for(pos_alpha.admin)
    authorize = _start_oauth(admin)
    page = http.call("GET", authorize, timeout=patience(2))
    assert "許可する" in page.body.decode()
    form = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()} | {"decision": "deny"}
    denied = http.call(
        "POST",
        ubiregi.url + "/oauth2/authorize",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=urlencode(form).encode(),
        timeout=patience(2),
    )
    response = admin.get(_callback_path(denied.headers["Location"]), follow=True)
    assert "did not allow the connection (access_denied)" in response.content.decode()
    assert not PosConnection.objects.exists()


def test_an_expired_state_is_refused(pos_alpha, ubiregi):
    admin = client_for(pos_alpha.admin)
    back = _consent(_start_oauth(admin))
    session = admin.session
    session["pos_link_oauth_state"]["at"] = "2020-01-01T00:00:00+00:00"  # started long ago
    session.save()
    response = admin.get(_callback_path(back), follow=True)
    assert "did not match this session" in response.content.decode()
    assert not PosConnection.objects.exists()


def test_a_reused_code_is_refused_with_ubiregi_reason(pos_alpha, ubiregi):
    admin = client_for(pos_alpha.admin)
    back = _consent(_start_oauth(admin))
    admin.get(_callback_path(back))
    PosConnection.objects.all().delete()
    _start_oauth(admin)  # a genuine new start, then replay the used code with the new state
    state = admin.session["pos_link_oauth_state"]["state"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = admin.get(reverse("pos_link:ubiregi_callback") + f"?code={code}&state={state}", follow=True)
    assert "authorization code is invalid" in response.content.decode()
    assert not PosConnection.objects.exists()


# ---------------------------------------------------------------- rows


def test_row_update_changes_the_camera(pos_alpha, smaregi):
    give_pos_options(pos_alpha.operator, count=1)
    second = CameraFactory(room=pos_alpha.room, name="Second Cam")
    link = link_of(pos_alpha)
    response = client_for(pos_alpha.admin).post(
        reverse("pos_link:link_update", kwargs={"link_id": link.pk}),
        {f"link{link.pk}-terminal_id": "1", f"link{link.pk}-camera": second.pk},
        follow=True,
    )
    link.refresh_from_db()
    assert link.camera == second
    assert "was updated" in response.content.decode()


def test_bulk_unlink_confirms_then_deletes_only_the_links(pos_alpha, smaregi):
    first, second, kept = link_of(pos_alpha, terminal_id="1"), link_of(pos_alpha, terminal_id="2"), None
    kept = link_of(pos_alpha, terminal_id="3")
    admin = client_for(pos_alpha.admin)
    confirm = admin.post(reverse("pos_link:links_delete"), {"link": [first.pk, second.pk]})
    page = confirm.content.decode()
    assert confirm.status_code == 200 and page.count('class="to-delete"') == 2
    assert PosLink.objects.count() == 3  # nothing goes before the confirmation
    done = admin.post(reverse("pos_link:links_delete"), {"link": [first.pk, second.pk], "confirm": "1"}, follow=True)
    assert "2 link(s) were deleted" in done.content.decode()
    assert list(PosLink.objects.values_list("pk", flat=True)) == [kept.pk]
    assert PosConnection.objects.filter(pk=kept.connection_id).exists()  # the contract / token stays


def test_bulk_unlink_ignores_another_operators_ids(pos_alpha, bravo):
    theirs = link_of(bravo)
    response = client_for(pos_alpha.admin).post(
        reverse("pos_link:links_delete"), {"link": [theirs.pk], "confirm": "1"}, follow=True
    )
    assert "Select the links to delete first" in response.content.decode()
    assert PosLink.objects.filter(pk=theirs.pk).exists()


def test_links_page_shows_status_and_last_success(pos_alpha):
    link = link_of(pos_alpha)
    page = client_for(pos_alpha.viewer).get(LINKS).content.decode()
    assert "Waiting for the first fetch" in page and "never" in page
    assert f'name="link" value="{link.pk}"' not in page  # a viewer gets no delete checkboxes


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_cannot_change_links(pos_alpha, smaregi, role):
    user = getattr(pos_alpha, role)
    link = link_of(pos_alpha)
    client = client_for(user)
    assert client.get(ADD_SMAREGI).status_code == 403
    assert client.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, terminal_id="9")).status_code == 403
    assert client.get(reverse("pos_link:ubiregi_add")).status_code == 403
    assert client.post(reverse("pos_link:ubiregi_connect")).status_code == 403
    assert client.post(reverse("pos_link:links_delete"), {"link": [link.pk], "confirm": "1"}).status_code == 403
    update = reverse("pos_link:link_update", kwargs={"link_id": link.pk})
    assert (
        client.post(update, {f"link{link.pk}-terminal_id": "5", f"link{link.pk}-camera": link.camera_id}).status_code
        == 403
    )
    assert PosLink.objects.filter(pk=link.pk, terminal_id="1").exists()
    assert PosLink.objects.count() == 1


def test_outsider_gets_404_for_links_and_dashboards(pos_alpha, bravo):
    theirs = link_of(bravo)
    client = client_for(pos_alpha.admin)
    assert client.post(reverse("pos_link:link_update", kwargs={"link_id": theirs.pk}), {}).status_code == 404
    assert client.get(reverse("pos_link:camera_dashboard", kwargs={"camera_id": bravo.camera.pk})).status_code == 404
    webhook = reverse("pos_link:webhook", kwargs={"connection_id": theirs.connection_id, "secret": "not-their-secret"})
    assert client.post(webhook, {}).status_code == 404


# ---------------------------------------------------------------- Smaregi: the Platform API, webhook URL, re-entry


def test_smaregi_platform_link_is_saved_after_smaregi_accepts_the_client(pos_alpha, smaregi):
    from tests.pos_link.conftest import PLATFORM_CLIENT_ID, PLATFORM_CLIENT_SECRET, PLATFORM_CONTRACT

    admin = client_for(pos_alpha.admin)
    form = _smaregi_form(
        pos_alpha.camera, interface="smaregi_platform", contract_id=PLATFORM_CONTRACT, access_token="",
        client_id=PLATFORM_CLIENT_ID, client_secret="wrong",
    )  # fmt: skip
    refused = admin.post(ADD_SMAREGI, form).content.decode()
    assert "Unauthorized" in refused and not PosLink.objects.exists()
    admin.post(ADD_SMAREGI, {**form, "client_secret": PLATFORM_CLIENT_SECRET})
    connection = PosLink.objects.get().connection
    assert connection.interface == "smaregi_platform" and connection.client_secret == PLATFORM_CLIENT_SECRET
    assert ("POST", f"/app/{PLATFORM_CONTRACT}/token") in smaregi.requests
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM pos_link_posconnection")
        assert PLATFORM_CLIENT_SECRET not in cursor.fetchone()[0]  # ciphertext at rest
    page = admin.get(LINKS).content.decode()
    assert PLATFORM_CLIENT_SECRET not in page and "Smaregi Platform API" in page
    assert "pos.transactions:read (取引情報参照)" in page


def test_the_add_page_says_which_interface_applies_and_the_permissions(pos_alpha):
    page = client_for(pos_alpha.admin).get(ADD_SMAREGI).content.decode()
    for text in ("API receiving (API受信 Ver.2)", "Platform API", "店舗情報参照", "取引情報参照", "pos.stores:read"):
        assert text in page


def test_the_links_page_shows_the_webhook_url_to_admins_only(pos_alpha, smaregi):
    client_for(pos_alpha.admin).post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    connection = PosConnection.objects.get()
    url = "http://testserver" + reverse(
        "pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret}
    )
    assert url in client_for(pos_alpha.admin).get(LINKS).content.decode()
    viewer_page = client_for(pos_alpha.viewer).get(LINKS).content.decode()
    assert connection.webhook_secret not in viewer_page and "No push received yet" in viewer_page


def test_a_terminal_waiting_for_reauthorization_is_added_again_with_the_new_token(pos_alpha, smaregi):
    admin = client_for(pos_alpha.admin)
    admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera))
    PosLink.objects.update(status="token_revoked", cursor='{"done": "2026-01-01 00:00:00"}')
    smaregi.contracts[SMAREGI_CONTRACT]["token"] = "reissued-token"
    response = admin.post(ADD_SMAREGI, _smaregi_form(pos_alpha.camera, access_token="reissued-token"), follow=True)
    assert "already linked" not in response.content.decode()
    link = PosLink.objects.get()
    assert link.status == "pending" and link.cursor == '{"done": "2026-01-01 00:00:00"}'  # continues where it stopped
    assert link.connection.access_token == "reissued-token"
