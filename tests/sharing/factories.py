"""Helpers for tests that need camera shares (made through the services, so audit events exist too)."""

from sharing.models import CameraShare
from sharing.services import share_approve, share_request
from tests.conftest import Tenant
from tests.factories import OperatorFactory, UserFactory


def make_share(owner: Tenant, receiver_operator, receiver_admin, *, approve: bool = True, camera=None) -> CameraShare:
    """A share of `owner`'s camera to another operator, approved by its admin unless told otherwise."""
    (share,) = share_request(
        operator=owner.operator,
        user=owner.admin,
        camera_ids=[(camera or owner.camera).pk],
        share_id=receiver_operator.share_id,
    )
    if approve:
        share = share_approve(operator=receiver_operator, user=receiver_admin, share=share)
    return share


def share_of(tenant: Tenant) -> int:
    """For the isolation walk: a share `tenant` owns (to a third operator), approved, so every route has
    a real object behind the id that the walking operator must not reach."""
    third = OperatorFactory(name=f"Third of {tenant.operator.name}")
    admin = UserFactory(operator=third, email=f"third-{tenant.operator.pk}@example.com")
    return make_share(tenant, third, admin).pk
