"""Pure decisions of congestion visualization, tested without a database (docs/product.md §6).

Business hours on the 30-hour day, status labels, alert crossings, prediction averages, the CSV
format, and where in the minute each camera is analysed. Inputs are plain values / dataclasses.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import jpholiday
from django.utils.translation import gettext_lazy as _

DAY_STARTS = time(6, 0)  # the 30-hour business day starts at 06:00 (docs/product.md §6.6)
MIN_PREDICTION_DAYS = 7
SLOTS_PER_DAY = 96  # 15-minute slots
CSV_HEADER = ("カメラ名称", "企業名称", "タイムスタンプ", "カメラ識別子", "検知人数")
FORMULA_PREFIXES = "=+-@"


# ----------------------------------------------------------------------------- business hours


def business_day(moment: datetime) -> date:
    """The business day a local moment belongs to: 05:59 belongs to the day before."""
    return (moment - timedelta(hours=DAY_STARTS.hour)).date()


def day_offset(t: time, *, is_end: bool = False) -> int:
    """Minutes since 06:00 on the 30-hour day: 06:00 → 0, 23:00 → 1020, 05:00 → 1380.

    An end of 06:00 is the end of the day (1440), so "06:00–06:00" is the whole day.
    """
    minutes = (t.hour * 60 + t.minute - DAY_STARTS.hour * 60) % 1440
    if is_end and minutes == 0:
        return 1440
    return minutes


@dataclass(frozen=True)
class HoursLine:
    """One business-hours line. kind: base / special / closed; repeat: once / yearly / monthly / nth_weekday."""

    kind: str
    start: time | None = None
    end: time | None = None
    weekdays: tuple[int, ...] = ()
    holiday: bool = False
    repeat: str = ""
    date: date | None = None
    nth: int | None = None
    weekday: int | None = None

    def span(self) -> tuple[int, int]:
        assert self.start is not None and self.end is not None
        return day_offset(self.start), day_offset(self.end, is_end=True)

    def falls_on(self, day: date) -> bool:
        """Whether a special / closed line applies to business day `day`."""
        if self.repeat == "once":
            return self.date == day
        if self.repeat == "yearly":
            return self.date is not None and (self.date.month, self.date.day) == (day.month, day.day)
        if self.repeat == "monthly":
            return self.date is not None and self.date.day == day.day
        if self.repeat == "nth_weekday":
            return self.weekday == day.weekday() and self.nth == (day.day - 1) // 7 + 1
        return False

    def base_applies(self, day: date, is_holiday: bool) -> bool:
        # A public holiday is its own "weekday": only lines ticked for holidays apply on one.
        return self.holiday if is_holiday else day.weekday() in self.weekdays


def is_public_holiday(day: date) -> bool:
    return jpholiday.is_holiday(day)


def is_open(lines: Iterable[HoursLine], moment: datetime, *, holiday=is_public_holiday) -> bool:
    """Open at local `moment`? Priority: special closed day > special hours > base hours.

    With no line at all the camera is always open (business hours not set up).
    """
    lines = list(lines)
    if not lines:
        return True
    day = business_day(moment)
    offset = (moment.hour * 60 + moment.minute - DAY_STARTS.hour * 60) % 1440
    if any(line.kind == "closed" and line.falls_on(day) for line in lines):
        return False
    special = [line for line in lines if line.kind == "special" and line.falls_on(day)]
    if special:
        return any(s <= offset < e for s, e in (line.span() for line in special))
    is_hol = holiday(day)
    base = [line for line in lines if line.kind == "base" and line.base_applies(day, is_hol)]
    return any(s <= offset < e for s, e in (line.span() for line in base))


def span_error(start: time | None, end: time | None) -> str | None:
    """Why a from–until pair is invalid on the 30-hour day, or None."""
    if start is None or end is None:
        return str(_("Enter both the opening and the closing time."))
    s, e = day_offset(start), day_offset(end, is_end=True)
    if s >= e:
        return str(
            _("The closing time must come after the opening time on the day that starts at 06:00 (e.g. 23:00–05:00).")
        )
    return None


def overlapping(new: HoursLine, existing: Iterable[HoursLine]) -> HoursLine | None:
    """An existing line of the same kind that can fall on the same day and overlaps `new` in time."""
    if new.kind == "closed":
        return None
    s1, e1 = new.span()
    for line in existing:
        if line.kind != new.kind:
            continue
        if new.kind == "base":
            same_day = bool(set(line.weekdays) & set(new.weekdays)) or (line.holiday and new.holiday)
        else:
            same_day = (line.repeat, line.date, line.nth, line.weekday) == (new.repeat, new.date, new.nth, new.weekday)
        s2, e2 = line.span()
        if same_day and s1 < e2 and s2 < e1:
            return line
    return None


# ----------------------------------------------------------------------------- steps, labels, alerts


def step_for(count: int | None, thresholds: Sequence[int]) -> int:
    """Step 1 (空) below the first threshold; step k+1 from thresholds[k-1] on. None counts as step 1."""
    if count is None:
        return 1
    step = 1
    for threshold in thresholds:
        if count >= threshold:
            step += 1
    return step


def status_label(step: int, steps: int) -> str:
    """空 / やや混雑 / 混雑 (3 steps) or 空 / 混雑 (2 steps), in the active language."""
    if step <= 1:
        return str(_("Not crowded"))
    if steps == 3 and step == 2:
        return str(_("Somewhat crowded"))
    return str(_("Crowded"))


def threshold_errors(steps: int, thresholds: Sequence[int | None]) -> list[str]:
    errors = []
    if steps not in (2, 3):
        errors.append(str(_("Choose 2 or 3 steps.")))
        return errors
    if len(thresholds) != steps - 1 or any(t is None for t in thresholds):
        errors.append(str(_("Enter a threshold for every step.")))
        return errors
    if any(not 0 <= t <= 999 for t in thresholds):  # type: ignore[operator]
        errors.append(str(_("Thresholds must be between 0 and 999 people.")))
    if any(a >= b for a, b in zip(thresholds, thresholds[1:], strict=False)):  # type: ignore[operator]
        errors.append(str(_("Thresholds must be in ascending order.")))
    return errors


@dataclass(frozen=True)
class Crossing:
    new_step: int
    mail: bool  # an upward crossing into a crowded step: mail once
    threshold: int | None  # the threshold crossed (for the mail body)


def crossing(previous_step: int, count: int, thresholds: Sequence[int]) -> Crossing:
    """The new step after `count`; mail only when it rose into step 2 or 3 (once per crossing)."""
    new = step_for(count, thresholds)
    mail = new > previous_step and new >= 2
    return Crossing(new, mail, thresholds[new - 2] if new >= 2 else None)


def alert_mail(name: str, threshold: int) -> tuple[str, str]:
    """Subject and body exactly as docs/product.md §6.5 (always Japanese, as the service sends)."""
    subject = f"【{name}】混雑状態を検知しました"
    body = f"{name} に {threshold} 人以上の人が検知されました。\n該当カメラの検知範囲が混雑している可能性があります。\n"
    return subject, body


# ----------------------------------------------------------------------------- prediction


def slot_of(moment: datetime) -> int:
    return moment.hour * 4 + moment.minute // 15


@dataclass
class PredictionResult:
    enough_data: bool
    days: int
    averages: dict[tuple[int, int], float] = field(default_factory=dict)  # (weekday, slot) -> average


def predict(samples: Iterable[tuple[datetime, int]]) -> PredictionResult:
    """Average count per (weekday, 15-minute slot) over local `samples`; ≥ 7 distinct days needed."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    days: set[date] = set()
    for moment, count in samples:
        days.add(moment.date())
        cell = sums[(moment.weekday(), slot_of(moment))]
        cell[0] += count
        cell[1] += 1
    if len(days) < MIN_PREDICTION_DAYS:
        return PredictionResult(False, len(days))
    return PredictionResult(True, len(days), {key: total / n for key, (total, n) in sums.items()})


def sum_predictions(per_camera: Iterable[dict[tuple[int, int], float]]) -> dict[tuple[int, int], float]:
    """A group's prediction: the sum of its cameras' averages per slot."""
    total: dict[tuple[int, int], float] = defaultdict(float)
    for averages in per_camera:
        for key, value in averages.items():
            total[key] += value
    return dict(total)


def quarter_stats(samples: Iterable[tuple[datetime, int]]) -> list[dict]:
    """Per 15-minute bucket: the count at :00/:15/:30/:45 (if analysed) and avg / max / min."""
    buckets: dict[datetime, list[tuple[datetime, int]]] = defaultdict(list)
    for moment, count in samples:
        start = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
        buckets[start].append((moment, count))
    rows = []
    for start in sorted(buckets):
        values = [c for _m, c in buckets[start]]
        at_point = next((c for m, c in buckets[start] if m.minute == start.minute), None)
        rows.append(
            {
                "start": start,
                "point": at_point,
                "avg": round(sum(values) / len(values), 2),
                "max": max(values),
                "min": min(values),
            }
        )
    return rows


def history_rows(samples: Iterable[tuple[datetime, int]]) -> list[dict]:
    """`quarter_stats` as the history chart and the API give it: label, point, avg, max, min."""
    return [
        {
            "t": r["start"].strftime("%m-%d %H:%M"),
            "point": r["point"],
            "avg": r["avg"],
            "max": r["max"],
            "min": r["min"],
        }
        for r in quarter_stats(samples)
    ]


# ----------------------------------------------------------------------------- CSV


def strip_formula(value: str) -> str:
    """Leading = + - @ removed from name columns so a spreadsheet never runs them as formulas."""
    return value.lstrip(FORMULA_PREFIXES)


@dataclass(frozen=True)
class CsvRow:
    camera_name: str
    company_name: str
    timestamp: datetime  # local time
    camera_id: str
    count: int


def csv_bytes(rows: Iterable[CsvRow]) -> bytes:
    """Header, every value double-quoted (" doubled), LF line ends, UTF-8 with BOM (docs/product.md §6.9)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                strip_formula(row.camera_name),
                strip_formula(row.company_name),
                row.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
                row.camera_id,
                str(row.count),
            ]
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def csv_month_range(year: int, month: int, today: date) -> tuple[date, date] | None:
    """[first, last] days of a month's CSV: the current month runs from the 1st to yesterday; a future
    month, or today being the 1st of the current one, has nothing (None)."""
    first = date(year, month, 1)
    next_first = date(year + month // 12, month % 12 + 1, 1)
    last = min(next_first - timedelta(days=1), today - timedelta(days=1))
    if last < first:
        return None
    return first, last


# ----------------------------------------------------------------------------- scheduling


def offset_seconds(camera_id: int, spread: int = 60) -> int:
    """Where in the minute a camera is analysed: a stable hash, so cameras spread evenly over the
    minute (no burst at :00) and one camera always lands on the same second."""
    digest = hashlib.sha256(f"congestion-camera:{camera_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % spread


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# ----------------------------------------------------------------------------- month calendar


@dataclass(frozen=True)
class CalendarDay:
    """One business day of the month calendar: open or closed, and why (the line kind that decides)."""

    day: date
    open: bool
    spans: tuple[tuple[time, time], ...] = ()
    reason: str = ""  # "closed" (special closed day), "special", "base", "none" (no line that day), "always"
    holiday: bool = False


def day_plan(lines: Iterable[HoursLine], day: date, *, holiday=is_public_holiday) -> CalendarDay:
    """Open or closed on business day `day`, by the same priority as `is_open`: special closed day >
    special hours > base hours. No line at all: open all day."""
    lines = list(lines)
    is_hol = holiday(day)
    if not lines:
        return CalendarDay(day, True, reason="always", holiday=is_hol)
    if any(line.kind == "closed" and line.falls_on(day) for line in lines):
        return CalendarDay(day, False, reason="closed", holiday=is_hol)
    special = [line for line in lines if line.kind == "special" and line.falls_on(day)]
    chosen = special or [line for line in lines if line.kind == "base" and line.base_applies(day, is_hol)]
    spans = tuple(sorted((line.start, line.end) for line in chosen if line.start and line.end))
    reason = "special" if special else ("base" if chosen else "none")
    return CalendarDay(day, bool(spans), spans, reason, is_hol)


def month_calendar(lines: Iterable[HoursLine], year: int, month: int, *, holiday=is_public_holiday) -> list[list]:
    """The month as weeks (Monday first) of CalendarDay, None outside the month."""
    lines = list(lines)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    weeks: list[list] = []
    week: list = [None] * first.weekday()
    day = first
    while day < following:
        week.append(day_plan(lines, day, holiday=holiday))
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks
