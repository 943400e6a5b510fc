"""Sharing pages and what a shared camera looks like on the existing pages: request with confirmation,
approve / decline / cancel / remove with confirmation, 404 for every write, viewer 403, third operator
404, bad input messages with nothing changed, per-user limits on home, device and room pages."""

import pytest
from django.urls import reverse

from sharing.models import CameraShare, ShareStatus, UserCameraScope
from tests.conftest import client_for
from tests.sharing.conftest import second_room, snapshot


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs=kwargs)


def share_url(action: str, share: CameraShare) -> str:
    return url(f"sharing:{action}", share_id=share.pk)


def html(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------------------------------- flow


def test_the_owner_requests_with_a_confirmation_that_names_the_receiver(alpha, bravo):
    client = client_for(alpha.admin)
    form = {"share_id": bravo.operator.share_id, "cameras": [alpha.camera.pk]}
    confirm = client.post(url("sharing:request"), form)
    assert confirm.status_code == 200
    assert "Bravo" in html(confirm) and "Alpha Cam" in html(confirm)
    assert not CameraShare.objects.exists()  # the confirmation screen saves nothing

    done = client.post(url("sharing:request"), {**form, "confirm": "1"}, follow=True)
    share = CameraShare.objects.get()
    assert (share.operator, share.receiver, share.camera, share.status) == (
        alpha.operator,
        bravo.operator,
        alpha.camera,
        ShareStatus.REQUESTED,
    )
    assert "was sent to Bravo" in html(done)
    assert client_for(bravo.admin).get(url("home")).content.count(b"Alpha Cam") == 0  # not before approval


def test_the_receiver_approves_after_a_confirmation_and_sees_the_camera_marked_shared(alpha, bravo, requested):
    client = client_for(bravo.admin)
    index = client.get(url("sharing:index"))
    assert "Alpha Cam" in html(index) and share_url("approve", requested) in html(index)

    confirm = client.get(share_url("approve", requested))
    assert alpha.operator.share_id in html(confirm)  # the receiver checks who asks before approving
    assert CameraShare.objects.get().status == ShareStatus.REQUESTED

    done = client.post(share_url("approve", requested), follow=True)
    assert "You approved the share" in html(done)
    home = html(client_for(bravo.viewer).get(url("home")))
    assert "Alpha Cam" in home and "shared by Alpha" in home
    # The owner's building and room are not shown to the receiver.
    assert "Alpha Tower" not in home and "Alpha Entrance" not in home


def test_the_receiver_watches_the_shared_camera_page_without_owner_details(alpha, bravo, shared):
    page = client_for(bravo.admin).get(url("devices:detail", device_id=alpha.camera.pk))
    assert page.status_code == 200
    text = html(page)
    assert "shared by Alpha" in text
    assert alpha.camera.mac not in text and "Alpha Tower" not in text and "Stream source" not in text
    assert url("devices:rename", device_id=alpha.camera.pk) not in text


@pytest.mark.parametrize("name", ["devices:rename", "devices:delete", "devices:exchange", "devices:stream"])
def test_every_write_page_of_a_shared_camera_is_404_for_the_receiver(alpha, bravo, shared, name):
    client = client_for(bravo.admin)
    before = snapshot()
    target = url(name, device_id=alpha.camera.pk)
    assert client.get(target).status_code == 404
    data = {"name": "Taken over", "mac": "02:00:00:00:99:99", "source": "", "confirm": "1"}
    assert client.post(target, data).status_code == 404
    assert snapshot() == before


def test_the_owners_building_and_room_pages_stay_404_for_the_receiver(alpha, bravo, shared):
    client = client_for(bravo.admin)
    assert client.get(url("buildings:detail", building_id=alpha.building.pk)).status_code == 404
    assert client.get(url("buildings:room_detail", room_id=alpha.room.pk)).status_code == 404
    assert client.get(url("devices:detail", device_id=alpha.sensor.pk)).status_code == 404


def test_re_sharing_a_shared_camera_is_refused_with_a_message(alpha, bravo, charlie, shared):
    client = client_for(bravo.admin)
    form = client.get(url("sharing:request"))
    assert "Alpha Cam" not in html(form)  # not even offered
    before = snapshot()
    answer = client.post(
        url("sharing:request"), {"share_id": charlie.operator.share_id, "cameras": [alpha.camera.pk], "confirm": "1"}
    )
    assert answer.status_code == 200 and "cannot be shared on" in html(answer)
    assert snapshot() == before


def test_decline_after_confirmation_shows_nothing(alpha, bravo, requested):
    client = client_for(bravo.admin)
    assert client.get(share_url("decline", requested)).status_code == 200
    client.post(share_url("decline", requested), follow=True)  # the success message is read here
    assert CameraShare.objects.get().status == ShareStatus.DECLINED
    assert "Alpha Cam" not in html(client.get(url("home")))


def test_cancel_takes_the_camera_away_from_every_receiver_page_at_once(alpha, bravo, shared):
    receiver = client_for(bravo.viewer)
    detail = url("devices:detail", device_id=alpha.camera.pk)
    assert receiver.get(detail).status_code == 200

    owner = client_for(alpha.admin)
    confirm = owner.get(share_url("cancel", shared))
    assert "Bravo loses access" in html(confirm)
    done = owner.post(share_url("cancel", shared), follow=True)
    assert "no longer sees Alpha Cam" in html(done)

    assert receiver.get(detail).status_code == 404
    assert "Alpha Cam" not in html(receiver.get(url("home")))


def test_the_receiver_removes_the_camera_from_its_own_list(alpha, bravo, shared):
    client = client_for(bravo.admin)
    assert "disappears from your lists" in html(client.get(share_url("remove", shared)))
    client.post(share_url("remove", shared), follow=True)
    assert CameraShare.objects.get().status == ShareStatus.REMOVED
    assert "Alpha Cam" not in html(client.get(url("home")))
    assert "Alpha Cam" in html(client_for(alpha.viewer).get(url("home")))


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "share_id, message",
    [("NOSUCHID99", "No operator has the share ID NOSUCHID99"), ("own", "your own share ID")],
)
def test_bad_share_ids_show_a_clear_message_and_save_nothing(alpha, share_id, message):
    share_id = alpha.operator.share_id if share_id == "own" else share_id
    answer = client_for(alpha.admin).post(
        url("sharing:request"), {"share_id": share_id, "cameras": [alpha.camera.pk], "confirm": "1"}
    )
    assert answer.status_code == 200 and message in html(answer)
    assert not CameraShare.objects.exists()


def test_sharing_another_operators_camera_is_refused(alpha, bravo, charlie):
    answer = client_for(alpha.admin).post(
        url("sharing:request"), {"share_id": charlie.operator.share_id, "cameras": [bravo.camera.pk], "confirm": "1"}
    )
    assert "only cameras your operator owns" in html(answer)
    assert not CameraShare.objects.exists()


def test_approving_twice_shows_an_error_and_changes_nothing(bravo, shared):
    before = snapshot()
    answer = client_for(bravo.admin).post(share_url("approve", shared), follow=True)
    assert "already approved" in html(answer) and 'class="message error"' in html(answer)
    assert snapshot() == before


def test_approving_a_cancelled_request_shows_an_error_and_changes_nothing(alpha, bravo, requested):
    client_for(alpha.admin).post(share_url("cancel", requested))
    before = snapshot()
    client = client_for(bravo.admin)
    assert "cannot be done for this share" in html(client.get(share_url("approve", requested)))
    answer = client.post(share_url("approve", requested), follow=True)
    assert "cancelled by its owner" in html(answer)
    assert snapshot() == before


def test_the_owner_cannot_approve_its_own_request(alpha, requested):
    before = snapshot()
    assert client_for(alpha.admin).post(share_url("approve", requested)).status_code == 403
    assert snapshot() == before


# ------------------------------------------------------------------------------------------- roles and outsiders


def test_a_viewer_sees_the_sharing_lists_but_cannot_approve(bravo, requested):
    client = client_for(bravo.viewer)
    index = client.get(url("sharing:index"))
    assert index.status_code == 200 and "Alpha Cam" in html(index)
    assert share_url("approve", requested) not in html(index)
    before = snapshot()
    for user in (bravo.viewer, bravo.device_operator):
        client = client_for(user)
        assert client.get(share_url("approve", requested)).status_code == 403
        assert client.post(share_url("approve", requested)).status_code == 403
        assert client.get(url("sharing:request")).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("action", ["detail", "approve", "decline", "cancel", "remove"])
def test_a_third_operator_gets_404_for_a_share_between_two_others(charlie, shared, action):
    before = snapshot()
    client = client_for(charlie.admin)
    assert client.get(share_url(action, shared)).status_code == 404
    assert client.post(share_url(action, shared)).status_code == (405 if action == "detail" else 404)
    assert snapshot() == before


def test_the_audit_log_is_readable_by_both_sides_only(alpha, bravo, charlie, shared):
    for user in (alpha.viewer, bravo.viewer):
        audit = html(client_for(user).get(url("sharing:audit")))
        assert "Approved" in audit and "Requested" in audit and "Alpha Cam" in audit
        assert "Approved" in html(client_for(user).get(share_url("detail", shared)))
    outsider = html(client_for(charlie.admin).get(url("sharing:audit")))
    assert "Alpha Cam" not in outsider and "Nothing has been shared yet" in outsider
    assert "Alpha Cam" not in html(client_for(charlie.admin).get(url("sharing:index")))


# ------------------------------------------------------------------------------------------- per-user limits


def test_a_room_limit_hides_other_cameras_on_home_device_and_room_pages(alpha):
    room, other = second_room(alpha)
    admin = client_for(alpha.admin)
    edit = url("sharing:limit_edit", user_id=alpha.viewer.pk)
    assert "Alpha Garage" in html(admin.get(edit))
    done = admin.post(edit, {"rooms": [room.pk]}, follow=True)
    assert "now sees only the chosen rooms and cameras" in html(done)

    viewer = client_for(alpha.viewer)
    home = html(viewer.get(url("home")))
    assert "Alpha Garage Cam" in home and "Alpha Cam<" not in home
    assert viewer.get(url("devices:detail", device_id=alpha.camera.pk)).status_code == 404
    assert viewer.get(url("devices:detail", device_id=other.pk)).status_code == 200
    assert "Alpha Cam<" not in html(viewer.get(url("buildings:room_detail", room_id=alpha.room.pk)))
    # The admin is never limited.
    assert "Alpha Cam<" in html(admin.get(url("home")))


def test_lifting_a_limit_asks_first_then_shows_every_camera(alpha):
    room, _other = second_room(alpha)
    admin = client_for(alpha.admin)
    admin.post(url("sharing:limit_edit", user_id=alpha.viewer.pk), {"rooms": [room.pk]})
    clear = url("sharing:limit_clear", user_id=alpha.viewer.pk)
    assert "will see every camera" in html(admin.get(clear))
    assert UserCameraScope.objects.filter(user=alpha.viewer).exists()
    admin.post(clear)
    assert not UserCameraScope.objects.filter(user=alpha.viewer).exists()
    assert "Alpha Cam<" in html(client_for(alpha.viewer).get(url("home")))


def test_limit_pages_are_for_admins_and_foreign_rooms_are_refused(alpha, bravo):
    viewer = client_for(alpha.viewer)
    assert viewer.get(url("sharing:limits")).status_code == 403
    assert viewer.post(url("sharing:limit_edit", user_id=alpha.viewer.pk), {"rooms": []}).status_code == 403
    edit = url("sharing:limit_edit", user_id=alpha.viewer.pk)
    answer = client_for(alpha.admin).post(edit, {"rooms": [bravo.room.pk]})
    assert "rooms of your operator" in html(answer)
    assert not UserCameraScope.objects.exists()


def test_the_sharing_page_speaks_japanese(alpha, shared):
    client = client_for(alpha.admin)
    page = client.get(url("sharing:index"), HTTP_ACCEPT_LANGUAGE="ja")
    assert "カメラの共有" in html(page)
