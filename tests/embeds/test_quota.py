"""The monthly call quota: exact counting under concurrency, the flusher, the DB fallback, the limit
image, the per-IP rate limit, the login notice under 5,000 calls left."""

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from embeds import quota
from embeds.models import CallCount
from licensing.models import LicenseKind
from tests.conftest import client_for
from tests.congestion.conftest import give_option
from tests.licensing.factories import give_camera_licenses

UTC = ZoneInfo("UTC")


def image_url(key: str) -> str:
    return reverse("embed_public:image", kwargs={"embed_key": key})


# ----------------------------------------------------------------------------- pure rules


def test_the_month_is_the_calendar_month_in_tokyo():
    assert quota.month_of(datetime(2024, 5, 31, 14, 59, tzinfo=UTC)) == date(2024, 5, 1)  # 23:59 JST
    assert quota.month_of(datetime(2024, 5, 31, 15, 0, tzinfo=UTC)) == date(2024, 6, 1)  # 00:00 JST
    assert quota.next_month(date(2024, 12, 1)) == date(2025, 1, 1)


def test_usage_is_low_under_five_thousand_left():
    assert quota.Usage(date(2024, 6, 1), 5_000, 10_000).low is False
    assert quota.Usage(date(2024, 6, 1), 5_001, 10_000).low is True
    assert quota.Usage(date(2024, 6, 1), 12_000, 10_000).remaining == 0


def test_the_quota_is_ten_thousand_plus_one_hundred_thousand_per_add_on(alpha):
    assert quota.quota_for(alpha.operator.pk) == 10_000
    give_camera_licenses(alpha.operator, count=2, kind=LicenseKind.EMBED_CALLS_ADDON)
    quota.forget_quota_cache()
    assert quota.quota_for(alpha.operator.pk) == 210_000


# ----------------------------------------------------------------------------- exact counting


def _hammer(url: str, threads: int, per_thread: int) -> list[str]:
    states: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker():
        client = Client()
        barrier.wait()
        try:
            for _ in range(per_thread):
                response = client.get(url)
                with lock:
                    states.append(response["X-Embed-State"])
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return states


@pytest.fixture(params=["redis", "database"])
def backend(request, settings):
    if request.param == "database":
        settings.REDIS_URL = ""
    elif not quota.uses_redis():
        pytest.skip("REDIS_URL is not set")
    return request.param


@pytest.mark.django_db(transaction=True)
def test_concurrent_image_requests_are_counted_exactly(backend, alpha):
    from tests.congestion.conftest import register
    from tests.embeds.conftest import publish

    give_option(alpha.operator, 1)
    cc = register(alpha)
    publish(cc)
    states = _hammer(image_url(cc.embed_key), threads=12, per_thread=15)
    assert states.count("ok") == 180
    assert quota.used(alpha.operator.pk) == 180
    quota.flush()
    assert CallCount.objects.get(operator=alpha.operator).count == 180


@pytest.mark.django_db(transaction=True)
def test_the_quota_is_never_exceeded_under_concurrency(backend, alpha, monkeypatch):
    from tests.congestion.conftest import register
    from tests.embeds.conftest import publish

    monkeypatch.setattr(quota, "quota_for", lambda operator_id: 50)
    give_option(alpha.operator, 1)
    cc = register(alpha)
    publish(cc)
    states = _hammer(image_url(cc.embed_key), threads=10, per_thread=10)
    assert states.count("ok") == 50
    assert states.count("limit") == 50
    assert quota.used(alpha.operator.pk) == 50


def test_quota_used_up_shows_the_limit_image_with_200_and_counts_nothing(cc, monkeypatch):
    monkeypatch.setattr(quota, "quota_for", lambda operator_id: 2)
    client = Client()
    assert [client.get(image_url(cc.embed_key))["X-Embed-State"] for _ in range(2)] == ["ok", "ok"]
    response = client.get(image_url(cc.embed_key))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Embed-State"] == "limit"
    assert "X-Embed-Count" not in response
    prediction = client.get(reverse("embed_public:prediction", kwargs={"embed_key": cc.embed_key}))
    assert (prediction.status_code, prediction.json()) == (200, {"state": "limit"})
    assert quota.used(cc.operator_id) == 2


# ----------------------------------------------------------------------------- the flusher


class Killed(Exception):
    pass


@pytest.fixture
def three_operators(db):
    from tests.factories import OperatorFactory

    return [OperatorFactory(name=f"Op {i}") for i in range(3)]


@pytest.mark.skipif(not quota.uses_redis(), reason="needs REDIS_URL")
def test_a_flusher_killed_half_way_loses_nothing(three_operators):
    ops = three_operators
    for n, op in enumerate(ops, start=1):
        assert quota.charge(op.pk, 10 * n, quota=10_000)

    def die_after_first(operator_id, month):
        raise Killed

    with pytest.raises(Killed):
        quota.flush(on_each=die_after_first)
    assert CallCount.objects.count() == 1  # killed after the first row
    # Calls keep coming while nobody flushes; nothing was taken out of Redis.
    assert quota.charge(ops[0].pk, 5, quota=10_000)
    assert [quota.used(op.pk) for op in ops] == [15, 20, 30]
    assert quota.flush() == 3
    assert quota.flush() == 3  # a repeated run changes nothing
    assert {c.operator_id: c.count for c in CallCount.objects.all()} == {ops[0].pk: 15, ops[1].pk: 20, ops[2].pk: 30}


@pytest.mark.skipif(not quota.uses_redis(), reason="needs REDIS_URL")
def test_a_lost_redis_counter_resumes_from_the_last_flush(three_operators):
    op = three_operators[0]
    assert quota.charge(op.pk, 40, quota=10_000)
    quota.flush()
    quota.redis_client().delete(quota.counter_key(op.pk, quota.month_of()))  # Redis restarted empty
    assert quota.charge(op.pk, 1, quota=10_000)
    assert quota.used(op.pk) == 41


@pytest.mark.skipif(not quota.uses_redis(), reason="needs REDIS_URL")
def test_the_flusher_runs_as_a_celery_task(three_operators):
    from embeds.tasks import flush_embed_calls

    assert quota.charge(three_operators[1].pk, 7, quota=10_000)
    flush_embed_calls.delay()
    assert CallCount.objects.get(operator=three_operators[1]).count == 7


def test_each_month_has_its_own_counter(three_operators):
    op = three_operators[0]
    may = datetime(2024, 5, 31, 14, 0, tzinfo=UTC)
    june = datetime(2024, 5, 31, 16, 0, tzinfo=UTC)
    assert quota.charge(op.pk, 3, at=may, quota=10)
    assert quota.charge(op.pk, 10, at=june, quota=10)
    assert not quota.charge(op.pk, 1, at=june, quota=10)
    assert (quota.used(op.pk, at=may), quota.used(op.pk, at=june)) == (3, 10)


# ----------------------------------------------------------------------------- rate limit


def test_one_ip_is_rate_limited_and_its_extra_calls_are_not_counted(cc, settings):
    settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = 3
    client = Client()
    answers = [client.get(image_url(cc.embed_key), REMOTE_ADDR="203.0.113.9").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    limited = client.get(image_url(cc.embed_key), REMOTE_ADDR="203.0.113.9")
    assert limited["Content-Type"] == "image/png" and limited["Retry-After"] == "60"
    assert client.get(image_url(cc.embed_key), REMOTE_ADDR="198.51.100.7").status_code == 200  # another visitor
    assert quota.used(cc.operator_id) == 4


def test_behind_a_proxy_the_configured_header_names_the_client(cc, settings):
    settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = 1
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client = Client()
    assert client.get(image_url(cc.embed_key), HTTP_X_REAL_IP="203.0.113.1").status_code == 200
    assert client.get(image_url(cc.embed_key), HTTP_X_REAL_IP="203.0.113.2").status_code == 200
    assert client.get(image_url(cc.embed_key), HTTP_X_REAL_IP="203.0.113.1").status_code == 429


def test_a_bad_rate_limit_setting_stops_the_start(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import portal.settings.embeds as embeds_settings

    monkeypatch.setenv("EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE", "lots")
    with pytest.raises(ImproperlyConfigured, match="EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE"):
        importlib.reload(embeds_settings)
    monkeypatch.setenv("EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE", "60")
    importlib.reload(embeds_settings)


# ----------------------------------------------------------------------------- license page and login notice


def _login(client: Client, user, password: str):
    return client.post(reverse("tenants:login"), {"email": user.email, "password": password}, follow=True)


def _notice_shown(response) -> bool:
    return any("Embed calls left this month" in str(m) for m in response.context["messages"])


def test_under_five_thousand_left_a_notice_at_login_dismissible_until_month_end(alpha, cc, password, monkeypatch):
    assert quota.charge(alpha.operator.pk, 5_001, quota=10_000)
    assert _notice_shown(_login(Client(), alpha.viewer, password))
    client = client_for(alpha.viewer)
    page = client.get(reverse("embeds:notice_dismiss"))
    assert b"4999" in page.content.replace(b",", b"")
    response = client.post(reverse("embeds:notice_dismiss"), follow=True)
    assert "hidden until the end of the month" in str(list(response.context["messages"])[0])
    assert not _notice_shown(_login(Client(), alpha.viewer, password))
    assert _notice_shown(_login(Client(), alpha.admin, password))  # dismissed per user
    # Next month the dismissal no longer holds.
    real_month_of = quota.month_of
    monkeypatch.setattr(
        quota, "month_of", lambda moment=None: real_month_of(moment or datetime(2099, 1, 15, tzinfo=UTC))
    )
    assert quota.charge(alpha.operator.pk, 5_001, quota=10_000)
    assert _notice_shown(_login(Client(), alpha.viewer, password))


def test_with_enough_calls_left_there_is_no_notice(alpha, cc, password):
    assert quota.charge(alpha.operator.pk, 5_000, quota=10_000)
    assert not _notice_shown(_login(Client(), alpha.viewer, password))


def test_the_license_page_shows_licenses_expiry_add_ons_and_calls(alpha, cc):
    give_camera_licenses(alpha.operator, count=1, kind=LicenseKind.EMBED_CALLS_ADDON)
    quota.forget_quota_cache()
    assert quota.charge(alpha.operator.pk, 1202)
    response = client_for(alpha.viewer).get(reverse("licensing:licenses"))
    html = response.content.decode()
    assert 'id="embed-calls"' in html
    section = html[html.index('id="embed-calls"') :]
    assert ">1202<" in section
    assert "108798 / 110000" in section
    assert ">3<" in section and ">1<" in section  # 3 congestion options, 1 add-on


@pytest.mark.skipif(not quota.uses_redis(), reason="needs REDIS_URL")
def test_the_flusher_drops_counters_of_deleted_operators_and_carries_on(three_operators):
    gone, kept = three_operators[0], three_operators[1]
    assert quota.charge(gone.pk, 3, quota=10_000) and quota.charge(kept.pk, 4, quota=10_000)
    gone_id = gone.pk
    gone.delete()
    quota.flush()
    assert list(CallCount.objects.values_list("operator_id", "count")) == [(kept.pk, 4)]
    assert quota.redis_client().get(quota.counter_key(gone_id, quota.month_of())) is None
