"""The one parser of provider values (amounts, times, flags) for every POS provider.

Both providers send amounts as strings ("550", "140000.0", sometimes "1,200") and Smaregi's
API受信 Ver.2 sends times without an offset in Japan time; the Platform API and Ubiregi send
ISO 8601 with an offset. Anything else is a MalformedResponse with the value in the message, so
one bad field marks the link "unexpected answer" instead of storing a wrong number.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .base import MalformedResponse

JAPAN = ZoneInfo("Asia/Tokyo")
# Amounts fit the model's DecimalField(max_digits=14, decimal_places=2).
_MAX_AMOUNT = Decimal("999999999999.99")
_MAX_TEXT = 40


def decimal_or_none(value) -> Decimal | None:
    """An amount: None for a missing / empty value, a Decimal otherwise (commas tolerated)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedResponse(f"not a number: {value!r}")
    text = str(value).strip().replace(",", "")
    if len(text) > _MAX_TEXT:
        raise MalformedResponse("a number longer than 40 characters")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise MalformedResponse(f"not a number: {str(value)[:_MAX_TEXT]!r}") from exc
    if not amount.is_finite() or abs(amount) > _MAX_AMOUNT:
        raise MalformedResponse(f"not a usable amount: {text!r}")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if amount.as_tuple().exponent < -2 else amount


def time_or_none(value, *, naive_zone=JAPAN) -> datetime | None:
    """A moment: "YYYY-MM-DD hh:mm:ss" (read in `naive_zone`), or ISO 8601 with or without an offset
    ("2026-03-02T10:00:00+09:00", "…Z", "….123Z"). None for a missing / empty value."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if len(text) > _MAX_TEXT:
        raise MalformedResponse("a time longer than 40 characters")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise MalformedResponse(f"not a time: {text!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=naive_zone)


def flag(value) -> int:
    """A division code ("0", "1", 2, None) as an int; anything not a small integer is malformed."""
    if value is None or value == "":
        return 0
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise MalformedResponse(f"not a division code: {str(value)[:_MAX_TEXT]!r}") from exc


def text(value, limit: int) -> str:
    return "" if value is None else str(value)[:limit]
