"""The embed hot path reads one hand-written query; its values must match the ORM's on every backend."""

from datetime import UTC, datetime

from embeds.selectors import _datetime


def test_sqlite_text_timestamps_become_aware_utc():
    assert _datetime("2026-11-22 04:41:26.123456") == datetime(2026, 11, 22, 4, 41, 26, 123456, tzinfo=UTC)


def test_aware_and_missing_values_pass_through():
    aware = datetime(2026, 11, 22, 4, 41, tzinfo=UTC)
    assert _datetime(aware) is aware
    assert _datetime(None) is None
