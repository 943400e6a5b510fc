"""Congestion objects for any test, e.g. the isolation walk: found or created in a tenant."""

from congestion.models import CongestionCamera, Group, HoursRule


def congestion_camera_of(tenant) -> CongestionCamera:
    cc, _ = CongestionCamera.objects.get_or_create(
        camera=tenant.camera, defaults={"operator": tenant.operator, "display_name": tenant.camera.name}
    )
    return cc


def group_of(tenant) -> Group:
    cc = congestion_camera_of(tenant)
    group = Group.objects.filter(operator=tenant.operator).first()
    if group is None:
        group = Group.objects.create(operator=tenant.operator, name=f"{tenant.operator.name} group", default_camera=cc)
        group.cameras.add(cc)
    return group


def hours_rule_of(tenant) -> HoursRule:
    cc = congestion_camera_of(tenant)
    rule = HoursRule.objects.filter(congestion_camera=cc).first()
    if rule is None:
        from datetime import time

        rule = HoursRule.objects.create(
            operator=tenant.operator, congestion_camera=cc, kind="base", weekdays=[0], start=time(9), end=time(17)
        )
    return rule


cc_of = congestion_camera_of
