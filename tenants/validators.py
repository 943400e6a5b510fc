"""Password rule from the manuals: letters, digits and only the symbols @ - _ ! . $ % & + #."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOWED_SYMBOLS = "@-_!.$%&+#"
_ALLOWED = re.compile(r"^[A-Za-z0-9@\-_!.$%&+#]+$")


class AllowedSymbolsValidator:
    def validate(self, password: str, user=None) -> None:
        if not _ALLOWED.match(password or ""):
            bad = sorted({c for c in password if not re.match(r"[A-Za-z0-9@\-_!.$%&+#]", c)})
            raise ValidationError(
                _(
                    "The password may contain letters, digits and only these symbols: %(symbols)s "
                    "(not allowed: %(bad)s)."
                )
                % {"symbols": " ".join(ALLOWED_SYMBOLS), "bad": " ".join(bad) or _("spaces")},
                code="password_symbols",
            )

    def get_help_text(self) -> str:
        return _("Letters, digits and the symbols %(symbols)s.") % {"symbols": " ".join(ALLOWED_SYMBOLS)}
