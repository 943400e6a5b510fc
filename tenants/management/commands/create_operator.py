from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Operator
from tenants.services import operator_create


class Command(BaseCommand):
    help = "Create an operator (tenant) with its first admin account."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--password", required=True, help="initial password; must be changed at first login")
        parser.add_argument("--partner", action="store_true", help="create a resale partner")

    def handle(self, *args, name, admin_email, password, partner, **options):
        kind = Operator.Kind.PARTNER if partner else Operator.Kind.CUSTOMER
        try:
            operator, admin = operator_create(name=name, admin_email=admin_email, password=password, kind=kind)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {operator.get_kind_display().lower()} operator {operator.name!r} (id {operator.pk}, "
                f"share ID {operator.share_id}) with admin {admin.email}"
            )
        )
