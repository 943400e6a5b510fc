from io import StringIO

from django.core.management import call_command

from licensing import selectors
from licensing.models import License
from tenants.models import Operator


def test_seed_demo_licenses_every_demo_camera_and_is_idempotent(db):
    call_command("seed_demo", stdout=StringIO())
    partner = Operator.objects.get(name="Demo Partner Inc.")
    counts = License.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert License.objects.count() == counts
    for customer in selectors.customer_list(partner=partner):
        assert not selectors.cameras_without_license(customer=customer).exists()
        assert selectors.usable_camera_license(customer=customer) is not None  # registration works
    assert selectors.stock_summary(partner=partner)
