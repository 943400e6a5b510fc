"""Pure congestion rules, no database: hours on the 30-hour day, labels, crossings, prediction, CSV."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import translation

from congestion import rules
from congestion.rules import HoursLine

MON_23_05 = HoursLine("base", time(23, 0), time(5, 0), weekdays=(0,))


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm)


def test_a_monday_23_to_05_line_runs_into_tuesday_morning():
    # 2024-06-03 is a Monday.
    assert rules.is_open([MON_23_05], at(2024, 6, 3, 23, 30), holiday=lambda d: False)
    assert rules.is_open([MON_23_05], at(2024, 6, 4, 4, 59), holiday=lambda d: False)
    assert not rules.is_open([MON_23_05], at(2024, 6, 4, 5, 0), holiday=lambda d: False)
    assert not rules.is_open([MON_23_05], at(2024, 6, 3, 22, 59), holiday=lambda d: False)
    # Monday 03:00 belongs to Sunday's business day, which has no hours.
    assert not rules.is_open([MON_23_05], at(2024, 6, 3, 3, 0), holiday=lambda d: False)


def test_no_lines_means_always_open():
    assert rules.is_open([], at(2024, 6, 3, 3, 0))


def test_a_public_holiday_uses_only_the_holiday_lines():
    weekday = HoursLine("base", time(9), time(18), weekdays=(0, 1, 2, 3, 4))
    holiday = HoursLine("base", time(10), time(16), holiday=True)
    # 2024-07-15 (Monday) is 海の日 per jpholiday.
    assert rules.is_public_holiday(date(2024, 7, 15))
    assert not rules.is_open([weekday, holiday], at(2024, 7, 15, 9, 30))
    assert rules.is_open([weekday, holiday], at(2024, 7, 15, 10, 30))
    assert rules.is_open([weekday, holiday], at(2024, 7, 16, 9, 30))


def test_closed_beats_special_beats_base():
    base = HoursLine("base", time(9), time(18), weekdays=tuple(range(7)))
    special = HoursLine("special", time(12), time(20), repeat="yearly", date=date(2000, 12, 24))
    closed = HoursLine("closed", repeat="nth_weekday", nth=2, weekday=2)  # 2nd Wednesday
    assert not rules.is_open([base, special], at(2024, 12, 24, 10))  # special replaces base that day
    assert rules.is_open([base, special], at(2024, 12, 24, 19))
    assert not rules.is_open([base, special, closed], at(2024, 6, 12, 10))  # 2nd Wednesday of June 2024
    assert rules.is_open([base, special, closed], at(2024, 6, 5, 10))  # 1st Wednesday
    monthly_closed = HoursLine("closed", repeat="monthly", date=date(2024, 1, 20))
    assert not rules.is_open([base, monthly_closed], at(2024, 8, 20, 10))


def test_span_errors_and_overlaps():
    assert rules.span_error(time(23), time(5)) is None
    assert rules.span_error(time(6), time(6)) is None  # the whole 30-hour day
    assert rules.span_error(time(18), time(9)) is not None
    a = HoursLine("base", time(9), time(12), weekdays=(0, 1))
    assert rules.overlapping(HoursLine("base", time(11), time(13), weekdays=(1,)), [a]) == a
    assert rules.overlapping(HoursLine("base", time(12), time(13), weekdays=(1,)), [a]) is None
    assert rules.overlapping(HoursLine("base", time(11), time(13), weekdays=(2,)), [a]) is None


def test_labels_for_two_and_three_steps_in_both_languages():
    assert rules.step_for(4, [5, 10]) == 1
    assert rules.step_for(5, [5, 10]) == 2
    assert rules.step_for(10, [5, 10]) == 3
    assert [rules.status_label(s, 3) for s in (1, 2, 3)] == ["Not crowded", "Somewhat crowded", "Crowded"]
    with translation.override("ja"):
        assert [rules.status_label(s, 3) for s in (1, 2, 3)] == ["空", "やや混雑", "混雑"]
        assert [rules.status_label(s, 2) for s in (1, 2)] == ["空", "混雑"]


def test_threshold_errors():
    assert rules.threshold_errors(3, [5, 10]) == []
    assert rules.threshold_errors(3, [10, 5])
    assert rules.threshold_errors(3, [5, 5])
    assert rules.threshold_errors(2, [1000])
    assert rules.threshold_errors(2, [-1])
    assert rules.threshold_errors(4, [1, 2, 3])


def test_mail_only_on_an_upward_crossing():
    c = rules.crossing(1, 12, [10])
    assert (c.new_step, c.mail, c.threshold) == (2, True, 10)
    assert rules.crossing(2, 15, [10]).mail is False  # still over: no second mail
    assert rules.crossing(2, 3, [10]).new_step == 1
    c = rules.crossing(2, 30, [10, 20])
    assert (c.new_step, c.mail, c.threshold) == (3, True, 20)
    assert rules.crossing(3, 12, [10, 20]) == rules.Crossing(2, False, 10)  # going down never mails


def test_alert_mail_text_is_exactly_the_spec():
    subject, body = rules.alert_mail("入口カメラ", 10)
    assert subject == "【入口カメラ】混雑状態を検知しました"
    assert (
        body == "入口カメラ に 10 人以上の人が検知されました。\n該当カメラの検知範囲が混雑している可能性があります。\n"
    )


def test_prediction_needs_seven_days_and_averages_per_weekday_slot():
    start = datetime(2024, 6, 3, 10, 0)  # Monday
    six_days = [(start + timedelta(days=d), 4) for d in range(6)]
    result = rules.predict(six_days)
    assert not result.enough_data and result.days == 6
    samples = [(start + timedelta(days=d), 4) for d in range(7)] + [
        (start + timedelta(days=7, minutes=5), 8),  # next Monday 10:05, same slot 40
    ]
    result = rules.predict(samples)
    assert result.enough_data and result.days == 8
    assert result.averages[(0, 40)] == 6.0
    assert result.averages[(1, 40)] == 4.0
    assert rules.sum_predictions([{(0, 40): 6.0}, {(0, 40): 1.5, (1, 1): 2.0}]) == {(0, 40): 7.5, (1, 1): 2.0}


def test_quarter_stats_points_and_avg_max_min():
    rows = rules.quarter_stats([(at(2024, 6, 3, 10, 0), 2), (at(2024, 6, 3, 10, 5), 6), (at(2024, 6, 3, 10, 16), 3)])
    assert rows[0] == {"start": at(2024, 6, 3, 10, 0), "point": 2, "avg": 4.0, "max": 6, "min": 2}
    assert rows[1]["point"] is None and rows[1]["avg"] == 3.0


def test_csv_bytes_exactly():
    rows = [
        rules.CsvRow('=Cam "A"', "+@ACME, Inc.", datetime(2021, 8, 12, 12, 52, 1), "key-1", 3),
        rules.CsvRow("-入口", "会社", datetime(2021, 8, 12, 12, 53, 1), "key-1", 0),
    ]
    expected = (
        b"\xef\xbb\xbf"
        + '"カメラ名称","企業名称","タイムスタンプ","カメラ識別子","検知人数"\n'.encode()
        + b'"Cam ""A""","ACME, Inc.","2021-08-12 12:52:01","key-1","3"\n'
        + '"入口","会社","2021-08-12 12:53:01","key-1","0"\n'.encode()
    )
    assert rules.csv_bytes(rows) == expected


def test_csv_month_range_current_month_ends_yesterday():
    assert rules.csv_month_range(2024, 6, date(2024, 6, 15)) == (date(2024, 6, 1), date(2024, 6, 14))
    assert rules.csv_month_range(2024, 5, date(2024, 6, 15)) == (date(2024, 5, 1), date(2024, 5, 31))
    assert rules.csv_month_range(2024, 12, date(2025, 1, 2)) == (date(2024, 12, 1), date(2024, 12, 31))
    assert rules.csv_month_range(2024, 6, date(2024, 6, 1)) is None


@pytest.mark.parametrize("n", [1000])
def test_offsets_are_stable_and_spread_over_the_minute(n):
    offsets = [rules.offset_seconds(i) for i in range(1, n + 1)]
    assert offsets == [rules.offset_seconds(i) for i in range(1, n + 1)]
    assert all(0 <= o < 60 for o in offsets)
    per_second = [offsets.count(s) for s in range(60)]
    assert max(per_second) < 3 * n / 60  # no burst: at most ~3x the even share in any second
