"""A share request is noticed: the receiving operator's admins get a mail and see a badge in the menu
while it waits. A receiver of a shared camera never sees its retention period and cannot change its
license (docs/product.md §4.2)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from licensing.services import license_move
from sharing.services import share_approve
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from tests.sharing.factories import make_share

pytestmark = pytest.mark.django_db


def test_a_share_request_mails_the_receivers_admins_with_a_link(alpha, bravo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_share(alpha, bravo.operator, bravo.admin, approve=False)

    [message] = mail.outbox
    assert message.to == [bravo.admin.email]
    assert "Alpha" in message.subject and alpha.camera.name in message.body
    assert reverse("sharing:index") in message.body


def test_the_receivers_admins_see_a_badge_while_a_request_waits(alpha, bravo, requested):
    page = client_for(bravo.admin).get("/").content.decode()
    assert 'class="badge trouble share-pending"' in page and "1 share request waits for your decision" in page
    assert "share-pending" not in client_for(bravo.viewer).get("/").content.decode()  # admins decide
    assert "share-pending" not in client_for(alpha.admin).get("/").content.decode()  # the owner waits, no badge

    share_approve(operator=bravo.operator, user=bravo.admin, share=requested)
    assert "share-pending" not in client_for(bravo.admin).get("/").content.decode()


def test_the_api_lists_the_requests_that_wait_for_the_receivers_decision(alpha, bravo, requested):
    """The badge's count through the API: the receiver's incoming requests still waiting."""
    url = reverse("share-list") + "?status=requested&direction=incoming"
    body = client_for(bravo.admin).get(url).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["share_id"] for row in rows] == [requested.pk]
    owners = client_for(alpha.admin).get(url).json()
    assert (owners["results"] if isinstance(owners, dict) else owners) == []  # the owner waits: nothing to decide

    share_approve(operator=bravo.operator, user=bravo.admin, share=requested)
    after = client_for(bravo.admin).get(url).json()
    assert (after["results"] if isinstance(after, dict) else after) == []


def test_a_receiver_never_sees_the_retention_period(alpha, bravo, shared):
    player = reverse("recording:player", kwargs={"camera_id": alpha.camera.pk})
    assert "retention" in client_for(alpha.admin).get(player).context
    response = client_for(bravo.admin).get(player)
    assert response.status_code == 200
    assert "retention" not in response.context and 'class="retention"' not in response.content.decode()


def test_a_receiver_cannot_change_the_shared_cameras_license(alpha, bravo, shared):
    [owners] = give_camera_licenses(alpha.operator)
    [receivers] = give_camera_licenses(bravo.operator)
    client = client_for(bravo.admin)

    assert client.get(reverse("licensing:license_move", kwargs={"license_id": owners.pk})).status_code == 404
    moved = client.post(
        reverse("licensing:license_move", kwargs={"license_id": receivers.pk}), {"device": alpha.camera.pk}
    )
    assert moved.status_code == 200  # the form offers only the receiver's own cameras: nothing moves
    with pytest.raises(ValidationError, match="does not belong to your account"):
        license_move(operator=bravo.operator, actor=bravo.admin, lic=receivers, device=alpha.camera)
    owners.refresh_from_db()
    receivers.refresh_from_db()
    assert owners.device_id == alpha.camera.pk and receivers.device_id == bravo.camera.pk
