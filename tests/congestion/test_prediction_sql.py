"""The prediction is one SQL aggregation; it must give exactly what the pure rule gives on the same rows."""

import random
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from congestion import rules, selectors, services
from congestion.models import Analysis, Prediction

START = timezone.make_aware(datetime(2024, 5, 1, 0, 0))


def generate(cc, days: int, seed: int = 7) -> None:
    """Random minutes over `days` days (around midnight and slot edges too), some without a capture time,
    some not done (a camera that did not answer), with random counts."""
    rng = random.Random(seed)
    minutes = sorted(rng.sample(range(days * 24 * 60), 1500))
    rows = []
    for offset in minutes:
        minute = START + timedelta(minutes=offset)
        done = rng.random() > 0.05
        captured = None if rng.random() < 0.3 else minute + timedelta(seconds=rng.randint(0, 59))
        rows.append(
            Analysis(
                operator_id=cc.operator_id,
                congestion_camera=cc,
                minute=minute,
                status=Analysis.Status.DONE if done else Analysis.Status.NO_ANSWER,
                captured_at=captured if done else None,
                count=rng.randint(0, 40) if done else None,
            )
        )
    Analysis.objects.bulk_create(rows)


@pytest.mark.parametrize("days", [6, 10])
def test_sql_prediction_equals_the_pure_rule(cc, days):
    generate(cc, days)
    end = START + timedelta(days=days + 1)
    expected = rules.predict(selectors.samples_for(congestion_camera=cc, start=START, end=end))
    got = selectors.prediction_aggregate(congestion_camera=cc, start=START, end=end)
    assert (got.enough_data, got.days) == (expected.enough_data, expected.days)
    assert got.averages.keys() == expected.averages.keys()
    for key, value in expected.averages.items():
        assert got.averages[key] == pytest.approx(value, abs=1e-9), key
    assert expected.enough_data is (days >= 7)


def test_recompute_stores_the_sql_averages(cc):
    generate(cc, 8, seed=3)
    now = START + timedelta(days=9)
    result = services.prediction_recompute(congestion_camera=cc, now=now)
    stored = {(p.weekday, p.slot): p.average for p in Prediction.objects.filter(congestion_camera=cc)}
    assert result.enough_data and stored
    assert stored == {key: round(value, 3) for key, value in result.averages.items()}
