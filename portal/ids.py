"""Ids given in query parameters (`?room=12`): ASCII digits that fit the database's bigint.

`str.isdigit()` also accepts "²" or "٣" (int() then fails) and a 30-digit number (the database then
refuses it): both answered 500 before.
"""

import re

_ID = re.compile(r"[0-9]{1,19}")
ID_MAX = 2**63 - 1  # PostgreSQL bigint; SQLite's integer is the same size


def parse_id(value: str | None) -> int | None:
    """The id `value` names, or None when it is not one."""
    if value is None or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= ID_MAX else None
