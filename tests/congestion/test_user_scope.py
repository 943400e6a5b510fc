"""Per-user camera limits (UserCameraScope) apply to every congestion page, API and embed admin page.

A limited viewer sees only the congestion cameras of the devices it may see, and only the groups whose
cameras are all inside its limit; anything else is a 404 (like another operator's object).
"""

import pytest
from django.urls import reverse

from congestion.models import Group
from sharing.models import UserCameraScope
from tests.conftest import client_for

from .conftest import register


@pytest.fixture
def limited(alpha, cc, second_camera):
    """alpha.viewer limited to alpha.camera only; a second congestion camera it may not see; one group
    of the allowed camera only and one mixing both."""
    hidden = register(second_camera, "Hidden entrance")
    scope = UserCameraScope.objects.create(operator=alpha.operator, user=alpha.viewer)
    scope.cameras.add(alpha.camera)
    own = Group.objects.create(operator=alpha.operator, name="Allowed only", default_camera=cc)
    own.cameras.add(cc)
    mixed = Group.objects.create(operator=alpha.operator, name="Mixed group", default_camera=cc)
    mixed.cameras.add(cc, hidden)
    return {"cc": cc, "hidden": hidden, "own": own, "mixed": mixed}


def test_limited_viewer_lists_only_the_allowed_camera_and_groups(alpha, limited):
    viewer = client_for(alpha.viewer)
    page = viewer.get(reverse("congestion:index")).content.decode()
    assert limited["cc"].display_name in page
    assert "Hidden entrance" not in page
    groups = viewer.get(reverse("congestion:group_list")).content.decode()
    assert "Allowed only" in groups and "Mixed group" not in groups


def test_limited_viewer_gets_404_on_hidden_camera_and_mixed_group_pages(alpha, limited):
    viewer = client_for(alpha.viewer)
    hidden, cc = limited["hidden"].pk, limited["cc"].pk
    for name in ("camera_detail", "camera_image", "camera_prediction", "camera_history", "camera_offhours_image"):
        assert viewer.get(reverse(f"congestion:{name}", kwargs={"congestion_camera_id": hidden})).status_code == 404
        assert viewer.get(reverse(f"congestion:{name}", kwargs={"congestion_camera_id": cc})).status_code == 200
    assert viewer.get(reverse("embeds:camera_embed", kwargs={"congestion_camera_id": hidden})).status_code == 404
    for name in (
        "congestion:group_detail",
        "congestion:group_image",
        "congestion:group_prediction",
        "embeds:group_embed",
    ):
        assert viewer.get(reverse(name, kwargs={"group_id": limited["mixed"].pk})).status_code == 404, name
        assert viewer.get(reverse(name, kwargs={"group_id": limited["own"].pk})).status_code == 200, name


def test_limited_viewer_api_sees_only_the_allowed_camera(alpha, limited):
    api = client_for(alpha.viewer)
    ids = [row["id"] for row in api.get("/api/v1/congestion/cameras/").json()["results"]]
    assert ids == [limited["cc"].pk]
    assert api.get(f"/api/v1/congestion/cameras/{limited['hidden'].pk}/").status_code == 404
    assert api.get(f"/api/v1/congestion/cameras/{limited['hidden'].pk}/count/").status_code == 404
    assert api.get(f"/api/v1/congestion/cameras/{limited['cc'].pk}/count/").status_code == 200
    groups = [row["id"] for row in api.get("/api/v1/congestion/groups/").json()["results"]]
    assert groups == [limited["own"].pk]
    assert api.get(f"/api/v1/congestion/groups/{limited['mixed'].pk}/").status_code == 404


def test_admin_is_never_limited(alpha, limited):
    api = client_for(alpha.admin)
    ids = {row["id"] for row in api.get("/api/v1/congestion/cameras/").json()["results"]}
    assert ids == {limited["cc"].pk, limited["hidden"].pk}
    assert api.get(f"/api/v1/congestion/groups/{limited['mixed'].pk}/").status_code == 200


def test_congestion_menus_link_to_embed_code_and_generated_site(alpha, limited):
    viewer = client_for(alpha.viewer)
    cc, group = limited["cc"].pk, limited["own"].pk
    page = viewer.get(reverse("congestion:camera_detail", kwargs={"congestion_camera_id": cc})).content.decode()
    assert reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc}) in page
    page = viewer.get(reverse("congestion:group_detail", kwargs={"group_id": group})).content.decode()
    assert reverse("embeds:group_embed", kwargs={"group_id": group}) in page
    assert reverse("embeds:group_site", kwargs={"group_id": group}) in page
