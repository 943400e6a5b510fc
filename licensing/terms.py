"""License terms as pure functions: no database, no clock, no settings (docs/product.md §7.5).

All license days are calendar days in Asia/Tokyo, whatever the server's time zone: a license
assigned at 00:30 JST on the 1st counts from the 1st even though it is still the 31st in UTC.

- A license in stock has no term. Its term starts on the day it is assigned (``starts_on``).
- Until the end of the *following* month it is free (1 to 2 months), then the paid term of
  ``months`` months runs: ``paid_from`` is the 1st of the month after next and ``ends_on`` is
  the last day of a month. It expires at 00:00 JST the day after ``ends_on``.
- Renewal: a license assigned to a camera that already has one ending on ``current_ends_on``
  starts counting on its assignment day too ("延長時は新たなライセンスを割り当てた日からカウントダウン
  開始"), and its paid term runs after the current one ends. Assigned more than 60 days before the
  current end, the new paid term is *not* pushed back: it starts before the old one ends
  ("期限の切れる60日より前にライセンス割り振りを行うと前回購入分の有効期間が切れる前に、次のライセンス
  有効期間のカウントが開始される"), so renewing late gives the longest free time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
RENEWAL_EARLY_DAYS = 60
# An option license assigned this many days before another of the same option expires (the partner's
# first reminder) is taken as its renewal at expiry, even when it was assigned without naming it.
RENEWAL_WINDOW_DAYS = 90
MAX_TERM_MONTHS = 120


def local_date(at: datetime) -> date:
    """The Asia/Tokyo calendar day of an aware datetime."""
    if at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return at.astimezone(TOKYO).date()


def first_of_month(day: date, months_later: int = 0) -> date:
    index = day.year * 12 + (day.month - 1) + months_later
    return date(index // 12, index % 12 + 1, 1)


def end_of_month(day: date, months_later: int = 0) -> date:
    return first_of_month(day, months_later + 1) - timedelta(days=1)


def expires_at(ends_on: date) -> datetime:
    """The instant a license ending on `ends_on` stops working: midnight JST after its last day."""
    return datetime.combine(ends_on + timedelta(days=1), time.min, tzinfo=TOKYO)


@dataclass(frozen=True)
class Term:
    starts_on: date  # the assignment day: the camera is covered from this day
    paid_from: date  # the first day of the paid months; the days before it are free
    ends_on: date  # the last day covered (always the last day of a month)

    @property
    def expires_at(self) -> datetime:
        return expires_at(self.ends_on)

    @property
    def free_days(self) -> int:
        return (self.paid_from - self.starts_on).days

    def covers(self, at: datetime) -> bool:
        return self.starts_on <= local_date(at) <= self.ends_on


def license_term(*, assigned_on: date, months: int, current_ends_on: date | None = None) -> Term:
    """The term of a license of `months` paid months assigned on `assigned_on` (a Tokyo date).

    `current_ends_on` is the last day of the license the camera holds now, for a renewal.
    """
    if not 1 <= months <= MAX_TERM_MONTHS:
        raise ValueError(f"months must be 1..{MAX_TERM_MONTHS}")
    paid_from = first_of_month(assigned_on, 2)  # free until the end of the following month
    if current_ends_on is not None and (current_ends_on - assigned_on).days <= RENEWAL_EARLY_DAYS:
        paid_from = max(paid_from, current_ends_on + timedelta(days=1))
    ends_on = end_of_month(paid_from, months - 1)
    return Term(starts_on=assigned_on, paid_from=paid_from, ends_on=ends_on)


# ---------------------------------------------------------------- reminders


@dataclass(frozen=True)
class ReminderStep:
    code: str  # stored in ReminderSent.step: never rename
    audience: str  # "partner" or "customer"
    before: timedelta

    def due_at(self, ends_on: date) -> datetime:
        return expires_at(ends_on) - self.before


PARTNER, CUSTOMER = "partner", "customer"
REMINDER_STEPS: tuple[ReminderStep, ...] = (
    ReminderStep("partner_90d", PARTNER, timedelta(days=90)),
    ReminderStep("partner_60d", PARTNER, timedelta(days=60)),
    ReminderStep("partner_30d", PARTNER, timedelta(days=30)),
    ReminderStep("partner_14d", PARTNER, timedelta(days=14)),
    ReminderStep("partner_24h", PARTNER, timedelta(hours=24)),
    ReminderStep("customer_14d", CUSTOMER, timedelta(days=14)),
    ReminderStep("customer_1d", CUSTOMER, timedelta(days=1)),
)
STEP_CODES = tuple(step.code for step in REMINDER_STEPS)


@dataclass(frozen=True)
class ReminderDecision:
    step: ReminderStep
    send: bool  # False: recorded as skipped because a later step of the same audience is also due


def due_reminders(*, ends_on: date, now: datetime, done: set[str] | frozenset[str]) -> list[ReminderDecision]:
    """The reminder steps to record now for a license ending on `ends_on`, given the steps `done`.

    A step is due from its moment until the license expires. When the job ran late and several
    steps of one audience are due at once, only the latest is mailed (the older ones would tell a
    wrong number of days) and the others are recorded as skipped, so each step is settled once.
    """
    if now >= expires_at(ends_on):
        return []
    decisions: list[ReminderDecision] = []
    for audience in (PARTNER, CUSTOMER):
        due = [s for s in REMINDER_STEPS if s.audience == audience and s.code not in done and s.due_at(ends_on) <= now]
        due.sort(key=lambda s: s.due_at(ends_on))
        decisions += [ReminderDecision(step, send=(i == len(due) - 1)) for i, step in enumerate(due)]
    return decisions


def days_left(*, ends_on: date, now: datetime) -> int:
    """Whole days until expiry, rounded up, as a reminder mail states it."""
    remaining = expires_at(ends_on) - now.astimezone(UTC)
    return max(0, -(-int(remaining.total_seconds()) // 86400))
