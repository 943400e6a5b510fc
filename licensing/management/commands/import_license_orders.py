from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from licensing.services import ORDER_COLUMNS, orders_import


class Command(BaseCommand):
    help = (
        "Add licenses from an order file to partners' stock. CSV with the header "
        + ",".join(ORDER_COLUMNS)
        + "; one bad line imports nothing; orders imported before are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8, a BOM is fine)")

    def handle(self, *args, path: str, **options):
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            result = orders_import(text=text)
        except ValidationError as exc:
            raise CommandError("Nothing was imported.\n" + "\n".join(exc.messages)) from exc
        for order_no, count in result.added.items():
            self.stdout.write(f"{order_no}: {count} licenses added")
        for order_no in result.skipped:
            self.stdout.write(f"{order_no}: imported before, skipped")
        self.stdout.write(self.style.SUCCESS(f"{len(result.added)} orders imported, {len(result.skipped)} skipped."))
