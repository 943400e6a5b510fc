"""Sharing services and the one visibility selector: request → approve → visible; decline, cancel,
remove; bad input changes nothing; media tokens die with the share; per-user camera limits."""

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from devices.media_tokens import ACCESS_TOKEN_SALT, camera_access_token, camera_access_valid
from devices.selectors import access_device, camera_list, device_list
from sharing.models import ShareAction, ShareStatus
from sharing.selectors import access_share, share_audit_list, share_list
from sharing.services import (
    share_approve,
    share_cancel,
    share_decline,
    share_remove,
    share_request,
    user_scope_clear,
    user_scope_set,
)
from tests.sharing.conftest import second_room, snapshot
from tests.sharing.factories import make_share


def visible_names(operator, user=None) -> set[str]:
    return {c.name for c in camera_list(operator=operator, user=user)}


# ------------------------------------------------------------------------------------------- flow


def test_nothing_is_visible_to_the_receiver_before_approval(alpha, bravo, requested):
    assert requested.status == ShareStatus.REQUESTED
    assert visible_names(bravo.operator) == {"Bravo Cam"}
    with pytest.raises(Http404):
        access_device(operator=bravo.operator, user=bravo.admin, pk=alpha.camera.pk)


def test_after_approval_the_receiver_sees_the_camera_marked_shared_by_its_owner(alpha, bravo, shared):
    cameras = {c.name: c for c in camera_list(operator=bravo.operator, user=bravo.viewer)}
    assert set(cameras) == {"Bravo Cam", "Alpha Cam"}
    assert cameras["Alpha Cam"].shared_by == "Alpha"
    assert cameras["Bravo Cam"].shared_by is None
    device = access_device(operator=bravo.operator, user=bravo.viewer, pk=alpha.camera.pk)
    assert device.shared_by == "Alpha"


def test_the_receiver_sees_only_the_shared_camera_not_its_sensor_or_other_cameras(alpha, bravo, shared):
    second_room(alpha)  # another camera of the owner, not shared
    names = {d.name for d in device_list(operator=bravo.operator, user=bravo.admin)}
    assert names == {"Bravo Cam", "Bravo Sensor", "Alpha Cam"}
    with pytest.raises(Http404):
        access_device(operator=bravo.operator, user=bravo.admin, pk=alpha.sensor.pk)


def test_the_owner_still_sees_its_camera_as_its_own(alpha, shared):
    (camera,) = camera_list(operator=alpha.operator)
    assert camera.shared_by is None


def test_any_write_on_a_shared_camera_is_404_for_the_receiver_even_its_admin(alpha, bravo, shared):
    for user in (bravo.admin, bravo.viewer):
        with pytest.raises(Http404):
            access_device(operator=bravo.operator, user=user, pk=alpha.camera.pk, write=True)
    # The owner's own rules are unchanged: admin may write, a viewer gets 403.
    assert access_device(operator=alpha.operator, user=alpha.admin, pk=alpha.camera.pk, write=True)
    with pytest.raises(PermissionDenied):
        access_device(operator=alpha.operator, user=alpha.viewer, pk=alpha.camera.pk, write=True)


def test_decline_leaves_nothing_visible_and_is_audited(alpha, bravo, requested):
    share_decline(operator=bravo.operator, user=bravo.admin, share=requested)
    requested.refresh_from_db()
    assert requested.status == ShareStatus.DECLINED
    assert visible_names(bravo.operator) == {"Bravo Cam"}
    actions = [e.action for e in share_audit_list(operator=alpha.operator)]
    assert actions == [ShareAction.DECLINE, ShareAction.REQUEST]


def test_cancel_by_the_owner_ends_access_at_once(alpha, bravo, shared):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=shared)
    assert visible_names(bravo.operator, bravo.admin) == {"Bravo Cam"}
    with pytest.raises(Http404):
        access_device(operator=bravo.operator, user=bravo.admin, pk=alpha.camera.pk)


def test_the_owner_can_cancel_a_request_before_it_is_decided(alpha, bravo, requested):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=requested)
    with pytest.raises(ValidationError, match="cancelled"):
        share_approve(operator=bravo.operator, user=bravo.admin, share=requested)
    assert visible_names(bravo.operator) == {"Bravo Cam"}


def test_remove_by_the_receiver_takes_the_camera_off_its_lists(alpha, bravo, shared):
    share_remove(operator=bravo.operator, user=bravo.admin, share=shared)
    shared.refresh_from_db()
    assert shared.status == ShareStatus.REMOVED
    assert visible_names(bravo.operator) == {"Bravo Cam"}
    assert visible_names(alpha.operator) == {"Alpha Cam"}  # the owner keeps its camera


def test_the_same_camera_can_be_shared_again_after_cancel(alpha, bravo, shared):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=shared)
    again = make_share(alpha, bravo.operator, bravo.admin)
    assert again.pk != shared.pk and again.status == ShareStatus.APPROVED
    assert "Alpha Cam" in visible_names(bravo.operator)


def test_one_request_for_several_cameras_makes_one_share_each(alpha, bravo):
    _room, other = second_room(alpha)
    shares = share_request(
        operator=alpha.operator,
        user=alpha.admin,
        camera_ids=[alpha.camera.pk, other.pk],
        share_id=bravo.operator.share_id,
    )
    assert sorted(s.camera.name for s in shares) == ["Alpha Cam", "Alpha Garage Cam"]
    share_approve(operator=bravo.operator, user=bravo.admin, share=shares[0])
    assert visible_names(bravo.operator) == {"Bravo Cam", shares[0].camera.name}


def test_share_id_is_forgiving_about_case_spaces_and_hyphens(alpha, bravo):
    raw = bravo.operator.share_id
    messy = f" {raw[:5].lower()}-{raw[5:]} "
    (share,) = share_request(operator=alpha.operator, user=alpha.admin, camera_ids=[alpha.camera.pk], share_id=messy)
    assert share.receiver == bravo.operator


# ------------------------------------------------------------------------------------------- bad input


def bad_request(alpha, **kwargs):
    args = {"operator": alpha.operator, "user": alpha.admin, "camera_ids": [alpha.camera.pk], "share_id": "X"}
    args.update(kwargs)
    return share_request(**args)


@pytest.mark.parametrize(
    "case, field, message",
    [
        ("unknown_share_id", "share_id", "No operator has the share ID"),
        ("own_share_id", "share_id", "your own share ID"),
        ("blank_share_id", "share_id", "Enter the share ID"),
        ("another_operators_camera", "cameras", "only cameras your operator owns"),
        ("no_camera", "cameras", "at least one camera"),
        ("not_an_id", "cameras", "from the list"),
    ],
)
def test_bad_share_requests_say_why_and_change_nothing(alpha, bravo, charlie, case, field, message):
    kwargs = {
        "unknown_share_id": {"share_id": "ZZZZZZZZZZ", "camera_ids": [alpha.camera.pk]},
        "own_share_id": {"share_id": alpha.operator.share_id},
        "blank_share_id": {"share_id": "  "},
        "another_operators_camera": {"share_id": charlie.operator.share_id, "camera_ids": [bravo.camera.pk]},
        "no_camera": {"share_id": bravo.operator.share_id, "camera_ids": []},
        "not_an_id": {"share_id": bravo.operator.share_id, "camera_ids": ["x"]},
    }[case]
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        bad_request(alpha, **kwargs)
    assert message in " ".join(caught.value.message_dict[field])
    assert snapshot() == before


def test_a_camera_shared_to_you_cannot_be_shared_on(alpha, bravo, charlie, shared):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        share_request(
            operator=bravo.operator, user=bravo.admin, camera_ids=[alpha.camera.pk], share_id=charlie.operator.share_id
        )
    assert "cannot be shared on" in " ".join(caught.value.message_dict["cameras"])
    assert snapshot() == before
    assert visible_names(charlie.operator) == {"Charlie Cam"}


def test_requesting_an_open_share_again_is_refused(alpha, bravo, requested):
    before = snapshot()
    with pytest.raises(ValidationError, match="Already shared with or waiting for Bravo"):
        bad_request(alpha, share_id=bravo.operator.share_id)
    assert snapshot() == before


def test_approving_twice_is_refused_and_changes_nothing(bravo, shared):
    before = snapshot()
    with pytest.raises(ValidationError, match="already approved"):
        share_approve(operator=bravo.operator, user=bravo.admin, share=shared)
    assert snapshot() == before


def test_approving_a_cancelled_request_is_refused_and_changes_nothing(alpha, bravo, requested):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=requested)
    before = snapshot()
    for step in (share_approve, share_decline):
        with pytest.raises(ValidationError, match="cancelled by its owner"):
            step(operator=bravo.operator, user=bravo.admin, share=requested)
    assert snapshot() == before


def test_cancelling_twice_and_removing_an_undecided_request_are_refused(alpha, bravo, requested):
    with pytest.raises(ValidationError, match="decline it instead"):
        share_remove(operator=bravo.operator, user=bravo.admin, share=requested)
    share_cancel(operator=alpha.operator, user=alpha.admin, share=requested)
    before = snapshot()
    with pytest.raises(ValidationError):
        share_cancel(operator=alpha.operator, user=alpha.admin, share=requested)
    assert snapshot() == before


def test_each_side_can_only_do_its_own_steps(alpha, bravo, requested):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        share_approve(operator=alpha.operator, user=alpha.admin, share=requested)  # the owner approving itself
    with pytest.raises(PermissionDenied):
        share_cancel(operator=bravo.operator, user=bravo.admin, share=requested)  # only the owner cancels
    assert snapshot() == before


def test_viewers_and_device_operators_cannot_request_or_decide(alpha, bravo, requested):
    before = snapshot()
    for user in (bravo.viewer, bravo.device_operator):
        with pytest.raises(PermissionDenied):
            share_approve(operator=bravo.operator, user=user, share=requested)
    with pytest.raises(PermissionDenied):
        bad_request(alpha, user=alpha.viewer, share_id=bravo.operator.share_id)
    assert snapshot() == before


# ------------------------------------------------------------------------------------------- audit


def test_both_sides_read_the_same_audit_log_and_a_third_operator_none(alpha, bravo, charlie, shared):
    share_cancel(operator=alpha.operator, user=alpha.admin, share=shared)
    expected = [ShareAction.CANCEL, ShareAction.APPROVE, ShareAction.REQUEST]
    assert [e.action for e in share_audit_list(operator=alpha.operator)] == expected
    assert [e.action for e in share_audit_list(operator=bravo.operator)] == expected
    approve = share_audit_list(operator=alpha.operator).get(action=ShareAction.APPROVE)
    assert (approve.actor_name, approve.actor_operator_name, approve.camera_name) == (
        "Bravo admin",
        "Bravo",
        "Alpha Cam",
    )
    assert not share_audit_list(operator=charlie.operator).exists()
    assert not share_list(operator=charlie.operator).exists()
    with pytest.raises(Http404):
        access_share(operator=charlie.operator, user=charlie.admin, pk=shared.pk)


# ------------------------------------------------------------------------------------------- media tokens


def test_access_tokens_open_the_camera_for_owner_and_receiver_while_shared(alpha, bravo, shared):
    for operator, user in ((alpha.operator, alpha.viewer), (bravo.operator, bravo.viewer), (bravo.operator, None)):
        access = camera_access_valid(camera_access_token(alpha.camera, operator, user=user))
        assert access is not None and access.camera.pk == alpha.camera.pk and access.operator == operator


def test_a_token_handed_out_before_cancel_stops_validating_after_it(alpha, bravo, shared):
    token = camera_access_token(alpha.camera, bravo.operator, user=bravo.viewer)
    assert camera_access_valid(token) is not None
    share_cancel(operator=alpha.operator, user=alpha.admin, share=shared)
    assert camera_access_valid(token) is None


def test_a_token_handed_out_before_remove_stops_validating_after_it(alpha, bravo, shared):
    token = camera_access_token(alpha.camera, bravo.operator)
    share_remove(operator=bravo.operator, user=bravo.admin, share=shared)
    assert camera_access_valid(token) is None


def test_tokens_expire_and_cannot_be_forged(alpha, bravo, shared):
    token = camera_access_token(alpha.camera, bravo.operator)
    assert camera_access_valid(token, max_age=-1) is None  # already past its age
    assert camera_access_valid(token[:-2] + "xx") is None
    forged = signing.dumps({"c": bravo.camera.pk, "o": alpha.operator.pk, "u": None}, salt="another-salt")
    assert camera_access_valid(forged) is None
    # Genuinely signed but for an operator that cannot see the camera: refused too.
    foreign = signing.dumps({"c": bravo.camera.pk, "o": alpha.operator.pk, "u": None}, salt=ACCESS_TOKEN_SALT)
    assert camera_access_valid(foreign) is None


def test_a_token_of_a_limited_user_follows_the_limit(alpha):
    room, other = second_room(alpha)
    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[room.pk], camera_ids=[])
    assert camera_access_valid(token) is None
    assert camera_access_valid(camera_access_token(other, alpha.operator, user=alpha.viewer)) is not None


# ------------------------------------------------------------------------------------------- per-user limits


def test_a_user_limited_to_one_room_sees_only_that_rooms_cameras(alpha):
    room, other = second_room(alpha)
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[room.pk], camera_ids=[])
    assert visible_names(alpha.operator, alpha.viewer) == {"Alpha Garage Cam"}
    assert device_list(operator=alpha.operator, user=alpha.viewer).count() == 1
    assert camera_list(operator=alpha.operator, user=alpha.viewer, room=alpha.room).count() == 0
    with pytest.raises(Http404):
        access_device(operator=alpha.operator, user=alpha.viewer, pk=alpha.camera.pk)
    with pytest.raises(Http404):
        access_device(operator=alpha.operator, user=alpha.viewer, pk=alpha.sensor.pk)
    # Others of the operator are untouched: the admin and the unlimited device operator see both.
    assert visible_names(alpha.operator, alpha.admin) == {"Alpha Cam", "Alpha Garage Cam"}
    assert visible_names(alpha.operator, alpha.device_operator) == {"Alpha Cam", "Alpha Garage Cam"}


def test_a_user_limited_to_a_camera_sees_it_and_its_sensor(alpha):
    _room, other = second_room(alpha)
    user_scope_set(
        operator=alpha.operator,
        user=alpha.admin,
        target=alpha.device_operator,
        room_ids=[],
        camera_ids=[alpha.camera.pk],
    )
    assert {d.name for d in device_list(operator=alpha.operator, user=alpha.device_operator)} == {
        "Alpha Cam",
        "Alpha Sensor",
    }


def test_an_empty_limit_shows_no_camera_and_clearing_it_shows_all_again(alpha):
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[], camera_ids=[])
    assert visible_names(alpha.operator, alpha.viewer) == set()
    assert user_scope_clear(operator=alpha.operator, user=alpha.admin, target=alpha.viewer) is True
    assert visible_names(alpha.operator, alpha.viewer) == {"Alpha Cam"}


def test_deleting_the_only_allowed_room_does_not_widen_a_limit(alpha):
    room, _other = second_room(alpha)
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[room.pk], camera_ids=[])
    room.delete()
    assert visible_names(alpha.operator, alpha.viewer) == set()


def test_a_limited_receiver_sees_a_shared_camera_only_when_chosen(alpha, bravo, shared):
    user_scope_set(
        operator=bravo.operator, user=bravo.admin, target=bravo.viewer, room_ids=[bravo.room.pk], camera_ids=[]
    )
    assert visible_names(bravo.operator, bravo.viewer) == {"Bravo Cam"}
    user_scope_set(
        operator=bravo.operator, user=bravo.admin, target=bravo.viewer, room_ids=[], camera_ids=[alpha.camera.pk]
    )
    assert visible_names(bravo.operator, bravo.viewer) == {"Alpha Cam"}


def test_limits_refuse_admins_foreign_rooms_and_cameras_and_change_nothing(alpha, bravo):
    before = snapshot()
    with pytest.raises(ValidationError, match="administrators see every camera"):
        user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.admin, room_ids=[], camera_ids=[])
    with pytest.raises(ValidationError, match="rooms of your operator"):
        user_scope_set(
            operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[bravo.room.pk], camera_ids=[]
        )
    with pytest.raises(ValidationError, match="cameras from the list"):
        user_scope_set(
            operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[], camera_ids=[bravo.camera.pk]
        )
    with pytest.raises(PermissionDenied):
        user_scope_set(operator=alpha.operator, user=alpha.viewer, target=alpha.viewer, room_ids=[], camera_ids=[])
    with pytest.raises(PermissionDenied):
        user_scope_set(operator=alpha.operator, user=alpha.admin, target=bravo.viewer, room_ids=[], camera_ids=[])
    assert snapshot() == before
