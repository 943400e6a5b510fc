"""Platform staff: move an account's role, the administrator role included, with an audited reason
(docs/product.md §1.3). The portal's pages and API refuse to make or unmake an administrator."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Role, RoleChange, User
from tenants.services import role_set_by_staff


class Command(BaseCommand):
    help = "Change an account's role (audited). Administrator accounts come with the contract."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="the account to change")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--reason", required=True, help="why, e.g. the contract change; kept in the audit")
        parser.add_argument("--by", default="", help="email of the staff member doing it (recorded in the audit)")

    def handle(self, *args, email, role, reason, by, **options):
        target = User.objects.filter(email__iexact=email.strip()).first()
        if target is None:
            raise CommandError(f"No account with the email address {email!r}.")
        staff = None
        if by:
            staff = User.objects.filter(email__iexact=by.strip()).first()
            if staff is None:
                raise CommandError(f"No account with the email address {by!r}.")
        try:
            change = role_set_by_staff(target=target, role=role, staff=staff, via=RoleChange.Via.COMMAND, reason=reason)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("; ".join(messages)) from exc
        if change is None:
            self.stdout.write(f"{target.email} already has the role {role}; nothing changed.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"{target.email}: {change.old_role} → {change.new_role} (audit entry {change.pk})")
        )
