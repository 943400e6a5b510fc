"""What a partner may do while acting as a customer (issue 13 §2): licenses, not accounts. Account
writes are refused on the pages, in the API and in the services; every look at the customer's
recordings, clips and exports is in the audit trail the customer reads."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from licensing.middleware import AUDITED_READS
from licensing.models import ProxyAction
from tenants.models import ApiToken, Role, TwoFactorMode, User
from tenants.services import user_create, user_delete, user_update
from tests.conftest import client_for
from tests.recording.media import clip_of, export_of, segment_of

REFUSAL = "While you act as a customer you cannot add, change or delete its accounts"


@pytest.fixture
def acting(partner, alpha) -> Client:
    """The partner's admin, acting as its customer alpha."""
    client = client_for(partner.admin)
    client.post(reverse("licensing:proxy_start", kwargs={"customer_id": alpha.operator.pk}))
    assert client.session.get("licensing_proxy_session")
    return client


def refused_page(response) -> bool:
    return response.status_code == 302 and response.url == reverse("licensing:licenses")


def test_no_account_can_be_added_or_promoted_on_the_pages(acting, alpha):
    response = acting.post(
        reverse("tenants:user_create"),
        {"name": "Mole", "email": "mole@example.com", "role": Role.ADMIN, "setup": "invite"},
        follow=True,
    )
    assert REFUSAL in response.content.decode()
    assert not User.objects.filter(email="mole@example.com").exists()
    edit = reverse("tenants:user_edit", args=[alpha.viewer.pk])
    assert refused_page(acting.post(edit, {"name": "V", "email": "mine@example.com", "role": Role.ADMIN}))
    assert refused_page(acting.post(reverse("tenants:user_delete", args=[alpha.viewer.pk])))
    alpha.viewer.refresh_from_db()
    assert (alpha.viewer.role, alpha.viewer.email) == (Role.VIEWER, "alpha-viewer@example.com")


def test_no_password_email_security_setting_or_token_changes_on_the_pages(acting, partner, password):
    new = {"old_password": password, "new_password1": "Fresh-pass-42", "new_password2": "Fresh-pass-42"}
    assert refused_page(acting.post(reverse("tenants:password_change"), new))
    account = reverse("tenants:account")
    assert refused_page(acting.post(account, {"action": "security", "two_factor_mode": TwoFactorMode.OFF}))
    assert refused_page(acting.post(account, {"action": "profile", "name": "P", "email": "p@example.com"}))
    assert refused_page(acting.post(reverse("tenants:api_token_create"), {"name": "t", "expires_in_days": 30}))
    partner.admin.refresh_from_db()
    assert partner.admin.check_password(password) and partner.admin.email == "acme-admin@example.com"
    assert not ApiToken.objects.exists()


def test_the_account_api_refuses_too(acting, alpha):
    response = acting.post("/api/v1/users/", {"email": "mole@example.com", "name": "M", "role": "admin"})
    assert response.status_code == 403 and REFUSAL in response.json()["detail"]
    response = acting.patch(f"/api/v1/users/{alpha.viewer.pk}/", {"role": "admin"}, content_type="application/json")
    assert response.status_code == 403
    assert acting.patch("/api/v1/me/", {"two_factor_mode": "off"}, content_type="application/json").status_code == 403
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER and not User.objects.filter(email="mole@example.com").exists()


def test_the_services_refuse_an_actor_of_another_operator(partner, alpha):
    with pytest.raises(PermissionDenied):
        user_create(operator=alpha.operator, actor=partner.admin, email="m@example.com", name="M", role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        user_update(actor=partner.admin, target=alpha.viewer, name="V", email=alpha.viewer.email, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        user_delete(actor=partner.admin, target=alpha.viewer)
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.role == Role.VIEWER and not User.objects.filter(email="m@example.com").exists()


def test_refused_attempts_are_in_the_customers_audit_trail(acting):
    acting.post(reverse("tenants:user_create"), {"name": "M", "email": "m@example.com", "role": "admin"})
    assert ProxyAction.objects.filter(method="POST", path=reverse("tenants:user_create")).exists()


def test_every_look_at_recordings_clips_and_exports_is_audited(acting, alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    from recording.models import EventClip

    clip = EventClip.objects.get(pk=clip_of(alpha))
    default_storage.save(clip.storage_name, ContentFile(b"\x00" * 1000))
    urls = [
        reverse("recording:clip_file", kwargs={"clip_id": clip.pk}),
        reverse("recording:segment_file", kwargs={"segment_id": segment_of(alpha)}),
        reverse("recording:export_download", kwargs={"export_id": export_of(alpha)}),
        reverse("recording:exports"),
        reverse("recording:player", kwargs={"camera_id": alpha.camera.pk}),
    ]
    quiet = Client(raise_request_exception=False)
    quiet.cookies = acting.cookies
    responses = {url: quiet.get(url) for url in urls}
    assert responses[urls[0]].status_code == 200  # a real download, not only refusals
    for url, response in responses.items():
        assert ProxyAction.objects.filter(method="GET", path=url, status=response.status_code).exists(), url
    acting.get(reverse("home"))
    assert not ProxyAction.objects.filter(method="GET", path=reverse("home")).exists()  # only video is a read to audit


def test_the_audited_url_names_exist():
    # recording/urls.py may rename a route; the audit list must follow, or reads go unrecorded.
    ids = {"player": "camera_id", "segment_file": "segment_id", "clip_file": "clip_id"}
    ids |= {"export_progress": "export_id", "export_download": "export_id"}
    for name in AUDITED_READS:
        short = name.split(":")[1]
        assert reverse(name, kwargs={ids[short]: 1} if short in ids else None)
