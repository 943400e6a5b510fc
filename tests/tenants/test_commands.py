from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from buildings.models import Building
from devices.models import Device
from tenants.models import Operator, User


def test_create_operator_makes_a_tenant_whose_admin_must_change_the_password(db):
    out = StringIO()
    call_command(
        "create_operator", name="Kita Mansion", admin_email="Boss@Kita.example", password="Init-pass1", stdout=out
    )
    operator = Operator.objects.get(name="Kita Mansion")
    admin = User.objects.get(email="boss@kita.example")
    assert operator.kind == Operator.Kind.CUSTOMER
    assert admin.operator == operator and admin.is_admin and admin.must_change_password
    assert admin.check_password("Init-pass1")
    assert operator.share_id in out.getvalue()


def test_create_operator_can_make_a_partner(db):
    call_command(
        "create_operator", name="Resale Co.", admin_email="r@resale.example", password="Init-pass1", partner=True
    )
    assert Operator.objects.get(name="Resale Co.").is_partner


def test_create_operator_refuses_a_forbidden_password_symbol_and_saves_nothing(db):
    with pytest.raises(CommandError, match="symbols"):
        call_command("create_operator", name="Bad", admin_email="bad@example.com", password="Init pass*1")
    assert not Operator.objects.filter(name="Bad").exists()
    assert not User.objects.filter(email="bad@example.com").exists()


def test_create_operator_refuses_an_email_in_use(db, alpha):
    with pytest.raises(CommandError, match="already used"):
        call_command("create_operator", name="Dup", admin_email=alpha.admin.email, password="Init-pass1")
    assert not Operator.objects.filter(name="Dup").exists()


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", stdout=StringIO())
    counts = (Operator.objects.count(), User.objects.count(), Building.objects.count(), Device.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Operator.objects.count(), User.objects.count(), Building.objects.count(), Device.objects.count()) == counts
    assert User.objects.get(email="admin@demo.example").check_password("demo-Pass1")
    assert Device.objects.filter(kind="camera").count() >= 3
