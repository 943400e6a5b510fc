"""License terms and reminder steps: pure functions, checked with examples and with hypothesis."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licensing import terms

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
months = st.integers(min_value=1, max_value=terms.MAX_TERM_MONTHS)
utc_instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC))


def test_a_license_assigned_mid_month_is_free_until_the_end_of_the_next_month():
    term = terms.license_term(assigned_on=date(2024, 1, 15), months=12)
    assert term.paid_from == date(2024, 3, 1)
    assert term.ends_on == date(2025, 2, 28)


def test_a_license_assigned_on_the_last_day_of_a_month_gets_just_over_one_free_month():
    term = terms.license_term(assigned_on=date(2024, 1, 31), months=1)
    assert term.free_days == 30  # Jan 31 + the 29 days of February 2024
    assert term.ends_on == date(2024, 3, 31)


def test_leap_day_assignment_counts_from_the_leap_day():
    term = terms.license_term(assigned_on=date(2024, 2, 29), months=12)
    assert (term.starts_on, term.paid_from, term.ends_on) == (date(2024, 2, 29), date(2024, 4, 1), date(2025, 3, 31))


def test_it_expires_at_midnight_tokyo_after_the_last_day_which_is_three_pm_utc():
    assert terms.expires_at(date(2025, 2, 28)) == datetime(2025, 2, 28, 15, 0, tzinfo=UTC)


def test_the_assignment_day_is_the_tokyo_date_not_the_utc_date():
    just_after_midnight_tokyo = datetime(2024, 1, 31, 15, 30, tzinfo=UTC)  # 2024-02-01 00:30 JST
    assert terms.local_date(just_after_midnight_tokyo) == date(2024, 2, 1)
    term = terms.license_term(assigned_on=terms.local_date(just_after_midnight_tokyo), months=1)
    assert term.paid_from == date(2024, 4, 1)


def test_a_renewal_within_60_days_runs_after_the_current_license_ends():
    # current ends 2025-03-31; renewal assigned 2025-01-31 (59 days before): natural paid start would be 03-01
    term = terms.license_term(assigned_on=date(2025, 1, 31), months=12, current_ends_on=date(2025, 3, 31))
    assert term.paid_from == date(2025, 4, 1)
    assert term.ends_on == date(2026, 3, 31)


def test_a_renewal_more_than_60_days_early_starts_before_the_current_one_ends():
    term = terms.license_term(assigned_on=date(2025, 1, 15), months=12, current_ends_on=date(2025, 3, 31))
    assert term.paid_from == date(2025, 3, 1)
    assert term.ends_on == date(2026, 2, 28)


def test_renewing_late_gives_more_free_time_than_renewing_early():
    early = terms.license_term(assigned_on=date(2025, 2, 1), months=12, current_ends_on=date(2025, 3, 31))
    late = terms.license_term(assigned_on=date(2025, 3, 25), months=12, current_ends_on=date(2025, 3, 31))
    assert late.ends_on > early.ends_on


@pytest.mark.parametrize("bad", [0, -1, terms.MAX_TERM_MONTHS + 1])
def test_it_refuses_a_term_outside_1_to_120_months(bad):
    with pytest.raises(ValueError):
        terms.license_term(assigned_on=date(2025, 1, 1), months=bad)


@given(assigned_on=days, n=months)
def test_property_term_shape(assigned_on, n):
    term = terms.license_term(assigned_on=assigned_on, months=n)
    assert term.starts_on == assigned_on
    # free until the end of the following month: 1 to 2 months
    assert term.paid_from == terms.end_of_month(assigned_on, 1) + timedelta(days=1)
    assert 29 <= term.free_days <= 62
    assert term.paid_from.day == 1
    # exactly n paid months, ending on a month end
    assert (term.ends_on + timedelta(days=1)) == terms.first_of_month(term.paid_from, n)
    assert (term.ends_on + timedelta(days=1)).day == 1


@given(assigned_on=days, n=months, current_ends_on=days)
def test_property_renewal_never_leaves_a_gap_and_only_overlaps_when_early(assigned_on, n, current_ends_on):
    term = terms.license_term(assigned_on=assigned_on, months=n, current_ends_on=current_ends_on)
    natural = terms.license_term(assigned_on=assigned_on, months=n)
    early = (current_ends_on - assigned_on).days > terms.RENEWAL_EARLY_DAYS
    if early:
        assert term == natural
        assert term.paid_from <= current_ends_on + timedelta(days=1)  # the new paid term starts before the old ends
    else:
        assert term.paid_from >= current_ends_on + timedelta(days=1)  # runs after the current one
        assert term.paid_from >= natural.paid_from  # never less free time than a first assignment
    assert term.ends_on >= natural.ends_on


@given(at=utc_instants)
def test_property_local_date_is_utc_plus_nine_hours(at):
    assert terms.local_date(at) == (at + timedelta(hours=9)).date()


@given(assigned_on=days, n=months, at=utc_instants)
def test_property_covers_matches_expiry_instant(assigned_on, n, at):
    term = terms.license_term(assigned_on=assigned_on, months=n)
    if terms.local_date(at) >= assigned_on:
        assert term.covers(at) == (at < term.expires_at)


@given(ends_on=days)
def test_property_reminder_moments_are_ordered_and_before_expiry(ends_on):
    for audience in (terms.PARTNER, terms.CUSTOMER):
        moments = [s.due_at(ends_on) for s in terms.REMINDER_STEPS if s.audience == audience]
        assert moments == sorted(moments)
        assert all(m < terms.expires_at(ends_on) for m in moments)


@given(ends_on=days, data=st.data())
def test_property_each_reminder_is_settled_at_most_once_however_often_the_job_runs(ends_on, data):
    start = terms.expires_at(ends_on) - timedelta(days=100)
    offsets = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=101 * 24), max_size=30)))
    done: set[str] = set()
    mailed: list[str] = []
    for hours in offsets:
        now = start + timedelta(hours=hours)
        for decision in terms.due_reminders(ends_on=ends_on, now=now, done=done):
            assert decision.step.code not in done
            done.add(decision.step.code)
            if decision.send:
                mailed.append(decision.step.code)
    assert len(mailed) == len(set(mailed))


def test_every_step_is_mailed_once_when_the_job_runs_hourly():
    ends_on = date(2025, 6, 30)
    now = terms.expires_at(ends_on) - timedelta(days=95)
    done: set[str] = set()
    mailed: list[str] = []
    while now < terms.expires_at(ends_on) + timedelta(days=2):
        for decision in terms.due_reminders(ends_on=ends_on, now=now, done=done):
            done.add(decision.step.code)
            if decision.send:
                mailed.append(decision.step.code)
        now += timedelta(hours=1)
    assert sorted(mailed) == sorted(terms.STEP_CODES)  # all seven, none twice


def test_a_late_job_mails_only_the_latest_due_step_and_skips_the_older():
    ends_on = date(2025, 6, 30)
    now = terms.expires_at(ends_on) - timedelta(days=45)  # 90 and 60 day steps both due
    decisions = terms.due_reminders(ends_on=ends_on, now=now, done=set())
    assert [(d.step.code, d.send) for d in decisions] == [("partner_90d", False), ("partner_60d", True)]


def test_no_reminder_after_expiry():
    ends_on = date(2025, 6, 30)
    assert terms.due_reminders(ends_on=ends_on, now=terms.expires_at(ends_on), done=set()) == []


def test_days_left_rounds_up():
    ends_on = date(2025, 6, 30)
    assert terms.days_left(ends_on=ends_on, now=terms.expires_at(ends_on) - timedelta(days=13, hours=1)) == 14
