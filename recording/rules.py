"""Pure notification rules: which types receive which events, and recipient-list validation.

No database here, so the rules are tested on their own and shared by the pages, the API and
the mail service.
"""

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .models import NotificationEvent, NotificationType

# Which events each notification type is mailed (docs/product.md §5.1).
EVENTS_BY_TYPE: dict[str, frozenset[str]] = {
    NotificationType.NONE: frozenset(),
    NotificationType.ALL: frozenset(
        {NotificationEvent.MOTION, NotificationEvent.VIDEO, NotificationEvent.TROUBLE, NotificationEvent.RECOVERY}
    ),
    NotificationType.TROUBLES: frozenset({NotificationEvent.TROUBLE, NotificationEvent.RECOVERY}),
    NotificationType.VIDEO: frozenset({NotificationEvent.VIDEO}),
    NotificationType.VIDEO_TROUBLES: frozenset(
        {NotificationEvent.VIDEO, NotificationEvent.TROUBLE, NotificationEvent.RECOVERY}
    ),
}


def type_receives(notification_type: str, event: str) -> bool:
    return event in EVENTS_BY_TYPE.get(notification_type, frozenset())


def max_recipients() -> int:
    return getattr(settings, "RECORDING_NOTIFICATION_MAX_RECIPIENTS", 10)


def split_addresses(text: str) -> list[str]:
    """Addresses typed one per line (commas, semicolons and spaces also separate them)."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def clean_recipients(addresses: Iterable[str]) -> list[str]:
    """Validate, normalize (lower case) and de-duplicate, keeping the order typed.

    Raises ValidationError listing every bad address, or when more than the maximum remain.
    """
    cleaned: list[str] = []
    errors: list[str] = []
    for raw in addresses:
        address = str(raw).strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            errors.append(_("“%(address)s” is not a valid email address.") % {"address": address})
            continue
        # Mailboxes are case-insensitive in practice; lower case makes duplicates visible.
        address = address.lower()
        if address not in cleaned:
            cleaned.append(address)
    if errors:
        raise ValidationError(errors)
    limit = max_recipients()
    if len(cleaned) > limit:
        raise ValidationError(
            _("Enter at most %(limit)d addresses (you entered %(count)d).") % {"limit": limit, "count": len(cleaned)}
        )
    return cleaned
