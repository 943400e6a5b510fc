"""Ingestion against the fake servers: idempotent by the provider's ID, cursor saved with the rows,
faults shown on the link with the last success time, backoff, recovery, OAuth refresh, webhook."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pos_link import services, tasks
from pos_link.models import LinkStatus, PosConnection, PosLink, PosTransaction
from tests.conftest import client_for
from tests.pos_link.conftest import SMAREGI_CONTRACT, SMAREGI_TOKEN
from tests.pos_link.factories import link_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def smaregi_link(pos_alpha, smaregi):
    return link_of(pos_alpha, contract_id=SMAREGI_CONTRACT, terminal_id="1")


@pytest.fixture(autouse=True)
def _real_token(smaregi_link):
    PosConnection.objects.filter(pk=smaregi_link.connection_id).update(access_token=SMAREGI_TOKEN)


def _sell(smaregi, n=1, terminal="1", **kw):
    return [smaregi.add_transaction(SMAREGI_CONTRACT, terminal, total=500 + i, deposit=1000, **kw) for i in range(n)]


def _poll(link, **kw):
    result = services.link_poll(link_id=link.pk, **kw)
    link.refresh_from_db()
    return result


def test_the_task_twice_stores_each_transaction_once(smaregi, smaregi_link):
    _sell(smaregi, 3)
    assert tasks.poll_due.delay().get() == 1
    assert tasks.poll_due.delay().get() == 1
    assert PosTransaction.objects.count() == 3
    smaregi_link.refresh_from_db()
    assert smaregi_link.status == LinkStatus.OK and smaregi_link.last_success_at is not None


def test_only_the_linked_terminal_is_stored_under_its_camera(smaregi, smaregi_link):
    _sell(smaregi, 2, terminal="1")
    _sell(smaregi, 1, terminal="2")
    _poll(smaregi_link)
    rows = PosTransaction.objects.all()
    assert {r.register_no for r in rows} == {"1"} and {r.camera_id for r in rows} == {smaregi_link.camera_id}


def test_a_crash_between_fetch_and_cursor_save_loses_nothing_and_doubles_nothing(smaregi, smaregi_link, monkeypatch):
    _sell(smaregi, 3)
    real_save = services.save_cursor

    def crash(link, cursor):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "save_cursor", crash)
    with pytest.raises(RuntimeError):
        services.link_poll(link_id=smaregi_link.pk)
    smaregi_link.refresh_from_db()
    assert smaregi_link.cursor == "" and smaregi_link.lease_until is None  # the claim is released
    monkeypatch.setattr(services, "save_cursor", real_save)
    _sell(smaregi, 1)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 4
    assert _poll(smaregi_link).stored == 0  # and again: nothing new, nothing doubled


def test_rows_already_stored_before_a_crash_are_not_doubled(smaregi, smaregi_link):
    _sell(smaregi, 2)
    _poll(smaregi_link)
    # the cursor is lost (e.g. a restore): everything is fetched again and upserted
    PosLink.objects.filter(pk=smaregi_link.pk).update(cursor="")
    _sell(smaregi, 1)
    _poll(smaregi_link)
    assert PosTransaction.objects.count() == 3


def test_a_second_worker_finds_the_link_busy(smaregi, smaregi_link):
    PosLink.objects.filter(pk=smaregi_link.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
    _sell(smaregi, 1)
    assert services.link_poll(link_id=smaregi_link.pk).outcome == "busy"
    assert not PosTransaction.objects.exists()


def test_many_pages_are_fetched_in_one_poll(smaregi, smaregi_link, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PAGE_LIMIT", 2)
    _sell(smaregi, 5)
    assert _poll(smaregi_link).stored == 5


def test_an_error_on_page_two_keeps_page_one_and_resumes(smaregi, smaregi_link, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PAGE_LIMIT", 2)
    _sell(smaregi, 3)
    original = smaregi.dispatch
    calls = {"n": 0}

    def second_fails(request):
        calls["n"] += 1
        if calls["n"] == 2:
            smaregi.fail_next("500")
        return original(request)

    monkeypatch.setattr(smaregi, "dispatch", second_fails)
    result = _poll(smaregi_link)
    assert result.outcome == "failed" and PosTransaction.objects.count() == 2
    assert smaregi_link.status == LinkStatus.PROVIDER_ERROR
    PosLink.objects.filter(pk=smaregi_link.pk).update(next_attempt_at=None)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 3


FAULTS = [
    ("401", LinkStatus.TOKEN_REVOKED, "Token revoked or expired"),
    ("429", LinkStatus.RATE_LIMITED, "Rate limited by the provider"),
    ("500", LinkStatus.PROVIDER_ERROR, "Provider error"),
    ("timeout", LinkStatus.PROVIDER_ERROR, "timed out"),
    ("malformed", LinkStatus.MALFORMED, "Unexpected answer from the provider"),
]


@pytest.mark.parametrize(("fault", "status", "shown"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_shows_status_and_last_success_then_resumes(pos_alpha, smaregi, smaregi_link, fault, status, shown):
    _sell(smaregi, 1)
    _poll(smaregi_link)
    last_success = smaregi_link.last_success_at
    _sell(smaregi, 1)
    smaregi.fail_next(fault)
    later = timezone.now() + timedelta(seconds=1)
    assert _poll(smaregi_link, now=later).outcome == "failed"
    assert smaregi_link.status == status and smaregi_link.last_success_at == last_success
    assert smaregi_link.next_attempt_at >= later + timedelta(seconds=60)  # backoff before the next try
    page = client_for(pos_alpha.admin).get(reverse("pos_link:links")).content.decode()
    assert shown in page
    assert timezone.localtime(last_success).strftime("%Y/%m/%d %H:%M:%S") in page
    assert tasks.poll_due.delay().get() == 0  # the every-minute job respects the backoff
    # the provider recovers: the next due poll picks up where it stopped
    PosLink.objects.filter(pk=smaregi_link.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.poll_due.delay().get() == 1
    smaregi_link.refresh_from_db()
    assert smaregi_link.status == LinkStatus.OK and smaregi_link.failure_count == 0
    assert PosTransaction.objects.count() == 2


def test_backoff_grows_exponentially_and_honours_retry_after():
    assert [services.backoff_seconds(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert services.backoff_seconds(30) == services.BACKOFF_MAX_SECONDS
    assert services.backoff_seconds(1, retry_after=300) == 300


def test_repeated_failures_push_the_next_attempt_further(smaregi, smaregi_link):
    now = timezone.now()
    smaregi.fail_next("500", times=3)
    gaps = []
    for _ in range(3):
        _poll(smaregi_link, now=now)
        gaps.append((smaregi_link.next_attempt_at - now).total_seconds())
    assert gaps == [60, 120, 240]


def test_a_payment_seen_again_with_other_amounts_becomes_modify(smaregi, smaregi_link):
    (row,) = _sell(smaregi, 1)
    _poll(smaregi_link)
    smaregi.update_transaction(SMAREGI_CONTRACT, row["transactionHeadId"], total="450", change="550")
    _poll(smaregi_link)
    tx = PosTransaction.objects.get()
    assert tx.kind == "modify" and tx.total == Decimal(450)


def test_a_cancel_after_the_fact_is_shown_as_cancel(smaregi, smaregi_link):
    (row,) = _sell(smaregi, 1)
    _poll(smaregi_link)
    smaregi.update_transaction(SMAREGI_CONTRACT, row["transactionHeadId"], cancelDivision="1")
    _poll(smaregi_link)
    assert PosTransaction.objects.get().kind == "cancel"


def test_unlinking_keeps_the_transactions(pos_alpha, smaregi, smaregi_link):
    _sell(smaregi, 2)
    _poll(smaregi_link)
    services.links_delete(user=pos_alpha.admin, links=[smaregi_link])
    assert PosTransaction.objects.filter(camera=pos_alpha.camera).count() == 2


# ---------------------------------------------------------------- Ubiregi: refresh and revocation


@pytest.fixture
def ubiregi_link(pos_alpha, ubiregi):
    ubiregi.add_checkout("31", price=550, paid=1000)
    from pos_link.providers import UbiregiClient, http

    client = UbiregiClient()
    location = http.call("GET", client.authorize_url(state="s", redirect_uri="http://x/cb"), timeout=2).headers[
        "Location"
    ]
    code = location.split("code=")[1].split("&")[0]
    services.ubiregi_connect(operator=pos_alpha.operator, user=pos_alpha.admin, code=code, redirect_uri="http://x/cb")
    connection = PosConnection.objects.get(provider="ubiregi")
    return services.ubiregi_link_create(
        operator=pos_alpha.operator,
        user=pos_alpha.admin,
        connection=connection,
        terminal_id="31",
        camera=pos_alpha.camera,
    )


def test_ubiregi_poll_refreshes_an_expired_token_and_continues(ubiregi, ubiregi_link):
    old = ubiregi_link.connection.access_token
    ubiregi.expire_access_tokens()  # expired early at the provider; our expiry time still lies ahead
    assert _poll(ubiregi_link).outcome == "ok"
    connection = PosConnection.objects.get(pk=ubiregi_link.connection_id)
    assert connection.access_token != old
    assert PosTransaction.objects.get().total == Decimal("550.0")


def test_ubiregi_token_near_expiry_is_refreshed_before_the_call(ubiregi, ubiregi_link):
    PosConnection.objects.filter(pk=ubiregi_link.connection_id).update(token_expires_at=timezone.now())
    old = ubiregi_link.connection.access_token
    _poll(ubiregi_link)
    assert PosConnection.objects.get(pk=ubiregi_link.connection_id).access_token != old
    assert ("POST", "/oauth2/token") in ubiregi.requests


def test_ubiregi_revoked_grant_shows_token_revoked_until_reconnected(pos_alpha, ubiregi, ubiregi_link):
    ubiregi.revoke_tokens()  # the operator uninstalled the app on Ubiregi
    assert _poll(ubiregi_link).outcome == "failed"
    assert ubiregi_link.status == LinkStatus.TOKEN_REVOKED
    assert "refresh token is invalid" in ubiregi_link.status_detail
    # connecting again revives the link at once
    from pos_link.providers import UbiregiClient, http

    location = http.call(
        "GET", UbiregiClient().authorize_url(state="s", redirect_uri="http://x/cb"), timeout=2
    ).headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    services.ubiregi_connect(operator=pos_alpha.operator, user=pos_alpha.admin, code=code, redirect_uri="http://x/cb")
    ubiregi_link.refresh_from_db()
    assert ubiregi_link.status == LinkStatus.PENDING and ubiregi_link.next_attempt_at is None
    assert _poll(ubiregi_link).outcome == "ok"


# ---------------------------------------------------------------- webhook


def test_webhook_stores_pushed_rows_with_the_link_secret(smaregi, smaregi_link):
    rows = [smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=800, deposit=1000)]
    url = reverse("pos_link:webhook", kwargs={"link_id": smaregi_link.pk})
    from django.test import Client

    client = Client()
    assert client.post(url, {"transactions": rows}, content_type="application/json").status_code == 404
    wrong = client.post(url, {"transactions": rows}, content_type="application/json", HTTP_X_POS_WEBHOOK_SECRET="no")
    assert wrong.status_code == 404 and not PosTransaction.objects.exists()
    ok = client.post(
        url,
        {"transactions": rows},
        content_type="application/json",
        HTTP_X_POS_WEBHOOK_SECRET=smaregi_link.webhook_secret,
    )
    assert ok.status_code == 200 and ok.json() == {"stored": 1}
    client.post(
        url,
        {"transactions": rows},
        content_type="application/json",
        HTTP_X_POS_WEBHOOK_SECRET=smaregi_link.webhook_secret,
    )
    _poll(smaregi_link)  # polling sees the same transaction: still one row
    assert PosTransaction.objects.count() == 1


def test_webhook_rejects_malformed_rows(smaregi_link):
    from django.test import Client

    response = Client().post(
        reverse("pos_link:webhook", kwargs={"link_id": smaregi_link.pk}),
        {"transactions": [{"total": "1"}]},
        content_type="application/json",
        HTTP_X_POS_WEBHOOK_SECRET=smaregi_link.webhook_secret,
    )
    assert response.status_code == 400 and not PosTransaction.objects.exists()
