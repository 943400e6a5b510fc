"""A month grid for the player's calendar (pure; no database)."""

import calendar
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


@dataclass(frozen=True)
class CalendarDay:
    day: date | None  # None: a blank cell before the 1st or after the last day
    recorded: bool = False
    selected: bool = False


def month_calendar(selected: date, recorded: set[date]) -> dict:
    """Weeks (Monday first) of `selected`'s month, marking the days with recordings."""
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(selected.year, selected.month):
        weeks.append(
            [
                CalendarDay(day=d, recorded=d in recorded, selected=d == selected)
                if d.month == selected.month
                else CalendarDay(day=None)
                for d in week
            ]
        )
    first = selected.replace(day=1)
    prev_month = (first.replace(day=1) - date.resolution).replace(day=1)
    next_month = (first.replace(day=28) + 4 * date.resolution).replace(day=1)
    return {"weekdays": WEEKDAYS, "weeks": weeks, "month": first, "prev_month": prev_month, "next_month": next_month}
