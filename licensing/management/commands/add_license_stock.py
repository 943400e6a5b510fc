from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from licensing.models import LicenseKind
from licensing.services import stock_add
from tenants.models import Operator


class Command(BaseCommand):
    help = "Add licenses to a partner's stock. Their term starts only when the partner assigns them."

    def add_arguments(self, parser):
        parser.add_argument("--partner", type=int, required=True, help="partner operator id")
        parser.add_argument("--kind", required=True, choices=LicenseKind.values)
        parser.add_argument("--months", type=int, required=True, help="paid term in months")
        parser.add_argument("--count", type=int, default=1)

    def handle(self, *args, partner: int, kind: str, months: int, count: int, **options):
        operator = Operator.objects.filter(pk=partner).first()
        if operator is None:
            raise CommandError(f"No operator with id {partner}.")
        try:
            created = stock_add(partner=operator, kind=kind, months=months, count=count)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Added {len(created)} x {kind} ({months} months) to the stock of {operator.name!r}.")
        )
