"""Ingestion against the fake servers: idempotent by the provider's ID, cursor saved with the rows,
faults shown on the link with the last success time, backoff, recovery without loss, token
refresh mid-poll, re-authorization without a retry storm, voids as one row, sale time, and the
POS option enforced by the poll task."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.models import License, LicenseKind
from pos_link import ingestion, tasks
from pos_link.models import Interface, LinkStatus, PosConnection, PosLink, PosTransaction
from tests.conftest import client_for
from tests.factories import CameraFactory
from tests.pos_link.conftest import (
    PLATFORM_CLIENT_ID,
    PLATFORM_CLIENT_SECRET,
    PLATFORM_CONTRACT,
    SMAREGI_CONTRACT,
    SMAREGI_TOKEN,
)
from tests.pos_link.factories import give_pos_options, link_of
from tests.waiting import patience

pytestmark = pytest.mark.django_db


@pytest.fixture
def smaregi_link(pos_alpha, smaregi):
    link = link_of(pos_alpha, contract_id=SMAREGI_CONTRACT, terminal_id="1")
    PosConnection.objects.filter(pk=link.connection_id).update(
        access_token=SMAREGI_TOKEN, interface=Interface.SMAREGI_ACCESS
    )
    link.connection.refresh_from_db()
    return link


@pytest.fixture
def platform_link(pos_alpha, smaregi):
    link = link_of(pos_alpha, contract_id=PLATFORM_CONTRACT, terminal_id="1")
    PosConnection.objects.filter(pk=link.connection_id).update(
        access_token="", interface=Interface.SMAREGI_PLATFORM, client_id=PLATFORM_CLIENT_ID,
        client_secret=PLATFORM_CLIENT_SECRET,
    )  # fmt: skip
    link.connection.refresh_from_db()
    return link


def _sell(smaregi, n=1, terminal="1", contract=SMAREGI_CONTRACT, **kw):
    return [smaregi.add_transaction(contract, terminal, total=500 + i, deposit=1000, **kw) for i in range(n)]


def _poll(link, **kw):
    result = ingestion.link_poll(link_id=link.pk, **kw)
    link.refresh_from_db()
    return result


def _due_now(link):
    PosLink.objects.filter(pk=link.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


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


def test_the_sale_time_is_stored_as_the_time_and_the_server_time_beside_it(smaregi, smaregi_link):
    sold = timezone.now().replace(microsecond=0) - timedelta(minutes=7)
    (row,) = _sell(smaregi, 1, at=sold)
    _poll(smaregi_link)
    tx = PosTransaction.objects.get()
    assert tx.occurred_at == sold and tx.server_at > sold
    assert tx.receipt_no == row["transactionUuid"] and tx.change == Decimal(500)


def test_a_crash_between_fetch_and_cursor_save_loses_nothing_and_doubles_nothing(smaregi, smaregi_link, monkeypatch):
    _sell(smaregi, 3)
    real_save = ingestion.save_cursor

    def crash(link, cursor):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(ingestion, "save_cursor", crash)
    with pytest.raises(RuntimeError):
        ingestion.link_poll(link_id=smaregi_link.pk)
    smaregi_link.refresh_from_db()
    assert smaregi_link.cursor == "" and smaregi_link.lease_until is None  # the claim is released
    monkeypatch.setattr(ingestion, "save_cursor", real_save)
    _sell(smaregi, 1)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 4
    assert _poll(smaregi_link).stored == 0  # and again: nothing new, nothing doubled


def test_rows_already_stored_before_a_lost_cursor_are_not_doubled(smaregi, smaregi_link):
    _sell(smaregi, 2)
    _poll(smaregi_link)
    PosLink.objects.filter(pk=smaregi_link.pk).update(cursor="")  # e.g. a restore
    _sell(smaregi, 1)
    _poll(smaregi_link)
    assert PosTransaction.objects.count() == 3


def test_a_second_worker_finds_the_link_busy(smaregi, smaregi_link):
    PosLink.objects.filter(pk=smaregi_link.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
    _sell(smaregi, 1)
    assert ingestion.link_poll(link_id=smaregi_link.pk).outcome == "busy"
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
    _due_now(smaregi_link)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 3


FAULTS = [
    ("429", LinkStatus.RATE_LIMITED, "Rate limited by the provider"),
    ("500", LinkStatus.PROVIDER_ERROR, "Provider error"),
    ("timeout", LinkStatus.PROVIDER_ERROR, "timed out"),
    ("html", LinkStatus.MALFORMED, "HTML page instead of JSON"),
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
    _due_now(smaregi_link)  # the provider recovers: the next due poll picks up where it stopped
    assert tasks.poll_due.delay().get() == 1
    smaregi_link.refresh_from_db()
    assert smaregi_link.status == LinkStatus.OK and smaregi_link.failure_count == 0
    assert PosTransaction.objects.count() == 2


def test_backoff_grows_exponentially_and_honours_retry_after():
    assert [ingestion.backoff_seconds(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert ingestion.backoff_seconds(30) == ingestion.BACKOFF_MAX_SECONDS
    assert ingestion.backoff_seconds(1, retry_after=300) == 300


def test_repeated_failures_push_the_next_attempt_further(smaregi, smaregi_link):
    now = timezone.now()
    smaregi.fail_next("500", times=3)
    gaps = []
    for _ in range(3):
        _poll(smaregi_link, now=now)
        gaps.append((smaregi_link.next_attempt_at - now).total_seconds())
    assert gaps == [60, 120, 240]


# ---------------------------------------------------------------- bad input from the provider


def test_a_short_page_against_total_count_shows_and_loses_nothing(pos_alpha, smaregi, smaregi_link, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PAGE_LIMIT", 2)
    _sell(smaregi, 1)
    _poll(smaregi_link)
    last_success = smaregi_link.last_success_at
    _sell(smaregi, 2)
    smaregi.fail_next("short")  # page 1 says total_count 3 but carries one row
    assert _poll(smaregi_link).outcome == "failed"
    assert smaregi_link.status == LinkStatus.MALFORMED and "total_count is 3" in smaregi_link.status_detail
    assert smaregi_link.last_success_at == last_success
    _due_now(smaregi_link)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 3


def test_rows_duplicated_across_pages_are_stored_once(smaregi, smaregi_link, monkeypatch):
    monkeypatch.setattr("pos_link.providers.smaregi.PAGE_LIMIT", 2)
    smaregi.duplicate_across_pages = True
    _sell(smaregi, 5)
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.filter(contract_id=SMAREGI_CONTRACT).count() == 5


def test_an_unknown_payment_method_is_kept_and_shown_as_other(pos_alpha, smaregi, smaregi_link):
    smaregi.add_transaction(SMAREGI_CONTRACT, "1", total=1200, method="QR Pay")
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.get().payment_method == "QR Pay"
    url = reverse("pos_link:camera_dashboard", kwargs={"camera_id": pos_alpha.camera.pk})
    assert "Other (QR Pay)" in client_for(pos_alpha.viewer).get(url).content.decode()


# ---------------------------------------------------------------- voids, changes, cancels


def test_a_void_is_one_row_shown_as_the_cancellation_of_its_original(pos_alpha, smaregi, smaregi_link):
    sold = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    (row,) = _sell(smaregi, 1, at=sold)
    _poll(smaregi_link)
    record = smaregi.void(SMAREGI_CONTRACT, row["transactionHeadId"], at=sold + timedelta(minutes=2))
    _poll(smaregi_link)
    tx = PosTransaction.objects.get()  # one row, not two deletions
    assert tx.provider_transaction_id == row["transactionHeadId"] and tx.kind == "cancel"
    assert tx.void_id == record["transactionHeadId"] and tx.occurred_at == sold and tx.total == Decimal(500)
    PosLink.objects.filter(pk=smaregi_link.pk).update(cursor="")
    _poll(smaregi_link)  # read again: still the one cancelled row
    assert list(PosTransaction.objects.values_list("kind", flat=True)) == ["cancel"]


def test_a_void_seen_before_its_original_is_still_one_row(smaregi, smaregi_link):
    (row,) = _sell(smaregi, 1)
    record = smaregi.void(SMAREGI_CONTRACT, row["transactionHeadId"])
    transactions = [ingestion.providers.smaregi.transaction_from_row(record)]
    ingestion.store_page(link=smaregi_link, transactions=transactions, cursor=None)
    assert PosTransaction.objects.get().provider_transaction_id == row["transactionHeadId"]
    _poll(smaregi_link)
    tx = PosTransaction.objects.get()
    assert tx.kind == "cancel" and tx.total == Decimal(500)  # the original's own data now


def test_a_payment_seen_again_with_other_amounts_becomes_modify(smaregi, smaregi_link):
    (row,) = _sell(smaregi, 1)
    _poll(smaregi_link)
    smaregi.update_transaction(SMAREGI_CONTRACT, row["transactionHeadId"], total="450", charge="550")
    _poll(smaregi_link, now=timezone.now() + timedelta(minutes=10))
    tx = PosTransaction.objects.get()
    assert tx.kind == "modify" and tx.total == Decimal(450)


def test_a_cancel_after_the_fact_is_shown_as_cancel(smaregi, smaregi_link):
    (row,) = _sell(smaregi, 1)
    _poll(smaregi_link)
    smaregi.update_transaction(SMAREGI_CONTRACT, row["transactionHeadId"], cancelDivision="1")
    _poll(smaregi_link, now=timezone.now() + timedelta(minutes=10))
    assert PosTransaction.objects.get().kind == "cancel"


def test_unlinking_keeps_the_transactions(pos_alpha, smaregi, smaregi_link):
    from pos_link import services

    _sell(smaregi, 2)
    _poll(smaregi_link)
    services.links_delete(user=pos_alpha.admin, links=[smaregi_link])
    assert PosTransaction.objects.filter(camera=pos_alpha.camera).count() == 2


# ---------------------------------------------------------------- Smaregi Platform API


def test_platform_link_polls_with_a_client_credentials_token(smaregi, platform_link):
    _sell(smaregi, 2, contract=PLATFORM_CONTRACT)
    assert _poll(platform_link).outcome == "ok"
    assert PosTransaction.objects.filter(contract_id=PLATFORM_CONTRACT).count() == 2
    connection = PosConnection.objects.get(pk=platform_link.connection_id)
    assert connection.access_token.startswith("sp-at-") and connection.token_expires_at > timezone.now()


def test_a_platform_token_expired_mid_poll_is_renewed_once_and_nothing_is_lost(smaregi, platform_link):
    _sell(smaregi, 1, contract=PLATFORM_CONTRACT)
    _poll(platform_link)
    old = PosConnection.objects.get(pk=platform_link.connection_id).access_token
    smaregi.expire_platform_tokens()  # expired at Smaregi; our expiry time still lies ahead
    _sell(smaregi, 1, contract=PLATFORM_CONTRACT)
    assert _poll(platform_link).outcome == "ok"
    assert PosConnection.objects.get(pk=platform_link.connection_id).access_token != old
    assert PosTransaction.objects.filter(contract_id=PLATFORM_CONTRACT).count() == 2


def test_the_same_sale_through_both_interfaces_is_one_row(smaregi, smaregi_link, platform_link):
    # One contract switched from API受信 to the Platform API keeps its rows (same transactionHeadId).
    _sell(smaregi, 1)
    _poll(smaregi_link)
    PosConnection.objects.filter(pk=smaregi_link.connection_id).update(
        interface=Interface.SMAREGI_PLATFORM, client_id=PLATFORM_CLIENT_ID, client_secret=PLATFORM_CLIENT_SECRET
    )
    smaregi.contracts[SMAREGI_CONTRACT].update(client_id=PLATFORM_CLIENT_ID, client_secret=PLATFORM_CLIENT_SECRET)
    PosLink.objects.filter(pk=smaregi_link.pk).update(cursor="")
    smaregi_link.connection.refresh_from_db()
    assert _poll(smaregi_link).outcome == "ok"
    assert PosTransaction.objects.filter(contract_id=SMAREGI_CONTRACT).count() == 1


# ---------------------------------------------------------------- Ubiregi: refresh, re-authorization


def _ubiregi_connect(pos_alpha):
    from pos_link import services
    from pos_link.providers import UbiregiClient, http

    authorize = UbiregiClient().authorize_url(state="s", redirect_uri="http://x/cb")
    location = http.call("GET", authorize, timeout=patience(2)).headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    services.ubiregi_connect(operator=pos_alpha.operator, user=pos_alpha.admin, code=code, redirect_uri="http://x/cb")
    return PosConnection.objects.get(provider="ubiregi")


@pytest.fixture
def ubiregi_link(pos_alpha, ubiregi):
    from pos_link import services

    ubiregi.add_checkout("31", price=550, paid=1000)
    connection = _ubiregi_connect(pos_alpha)
    return services.ubiregi_link_create(
        operator=pos_alpha.operator, user=pos_alpha.admin, connection=connection, terminal_id="31",
        camera=pos_alpha.camera,
    )  # fmt: skip


def test_ubiregi_poll_refreshes_an_expired_token_and_continues(ubiregi, ubiregi_link):
    old = ubiregi_link.connection.access_token
    ubiregi.expire_access_tokens()  # expired early at the provider; our expiry time still lies ahead
    assert _poll(ubiregi_link).outcome == "ok"
    assert PosConnection.objects.get(pk=ubiregi_link.connection_id).access_token != old
    assert PosTransaction.objects.get().total == Decimal("550.0")


def test_ubiregi_token_near_expiry_is_refreshed_before_the_call(ubiregi, ubiregi_link):
    PosConnection.objects.filter(pk=ubiregi_link.connection_id).update(token_expires_at=timezone.now())
    old = ubiregi_link.connection.access_token
    _poll(ubiregi_link)
    assert PosConnection.objects.get(pk=ubiregi_link.connection_id).access_token != old
    assert ("POST", "/oauth2/token") in ubiregi.requests


def test_ubiregi_duplicates_across_batches_are_stored_once(ubiregi, ubiregi_link):
    ubiregi.page_size, ubiregi.duplicate_across_pages = 2, True
    for price in (100, 200, 300, 400):
        ubiregi.add_checkout("31", price=price)
    assert _poll(ubiregi_link).outcome == "ok"
    assert PosTransaction.objects.count() == 5


@pytest.mark.parametrize("cause", ["revoked", "402"])
def test_a_revoked_grant_or_ended_subscription_needs_reauthorization_without_a_retry_storm(
    pos_alpha, ubiregi, ubiregi_link, cause
):
    from pos_link import services

    second = services.ubiregi_link_create(
        operator=pos_alpha.operator, user=pos_alpha.admin, connection=ubiregi_link.connection, terminal_id="32",
        camera=pos_alpha.camera,
    )  # fmt: skip
    _poll(ubiregi_link)
    last_success = PosLink.objects.get(pk=ubiregi_link.pk).last_success_at
    if cause == "revoked":
        ubiregi.revoke_tokens()  # the operator uninstalled the app on Ubiregi
    else:
        ubiregi.subscription_ended = True
    ubiregi.add_checkout("31", price=900)
    assert _poll(ubiregi_link).outcome == "failed"
    for link in (ubiregi_link, second):  # the whole connection waits, not only the link that asked
        link.refresh_from_db()
        assert link.status == LinkStatus.TOKEN_REVOKED
        assert link.next_attempt_at >= timezone.now() + ingestion.REAUTH_RECHECK - timedelta(minutes=1)
    assert ubiregi_link.last_success_at == last_success
    calls = len(ubiregi.requests)
    assert tasks.poll_due.delay().get() == 0 and len(ubiregi.requests) == calls  # nothing asked every minute
    page = client_for(pos_alpha.admin).get(reverse("pos_link:links")).content.decode()
    assert "Needs re-authorization" in page and "Connect the Ubiregi account again" in page
    ubiregi.subscription_ended = False
    _ubiregi_connect(pos_alpha)  # consent again: the links are due at once and continue
    ubiregi_link.refresh_from_db()
    assert ubiregi_link.status == LinkStatus.PENDING and ubiregi_link.next_attempt_at is None
    assert _poll(ubiregi_link).outcome == "ok"
    assert PosTransaction.objects.filter(register_no="31").count() == 2  # nothing sold meanwhile is lost


# ---------------------------------------------------------------- the POS option, at the task level


def _end_options(operator):
    yesterday = timezone.localdate() - timedelta(days=1)
    License.objects.filter(customer=operator, kind=LicenseKind.POS_OPTION).update(
        starts_on=yesterday - timedelta(days=30), ends_on=yesterday
    )


def test_when_the_option_ends_polling_stops_and_resumes_where_it_stopped(pos_alpha, smaregi, smaregi_link):
    _sell(smaregi, 1)
    assert tasks.poll_due.delay().get() == 1
    _end_options(pos_alpha.operator)
    _sell(smaregi, 2)  # sold while the option is off
    calls = len(smaregi.requests)
    assert tasks.poll_due.delay().get() == 0
    assert len(smaregi.requests) == calls and PosTransaction.objects.count() == 1
    smaregi_link.refresh_from_db()
    assert smaregi_link.status == LinkStatus.NO_OPTION
    assert ingestion.link_poll(link_id=smaregi_link.pk).outcome == "stopped"  # a queued poll refuses too
    url = reverse("pos_link:camera_dashboard", kwargs={"camera_id": pos_alpha.camera.pk})
    assert "POS link option has ended" in client_for(pos_alpha.viewer).get(url).content.decode()
    give_pos_options(pos_alpha.operator, count=1)  # assigned again
    assert tasks.poll_due.delay().get() == 1
    smaregi_link.refresh_from_db()
    assert smaregi_link.status == LinkStatus.OK
    assert PosTransaction.objects.count() == 3  # the two sold meanwhile came with the next poll


def test_a_camera_beyond_the_option_count_is_not_polled(pos_alpha, smaregi, smaregi_link):
    second_camera = CameraFactory(room=pos_alpha.room, name="Second Cam")
    give_pos_options(pos_alpha.operator, count=1)
    later = link_of(pos_alpha, contract_id=SMAREGI_CONTRACT, terminal_id="2")
    PosLink.objects.filter(pk=later.pk).update(camera=second_camera)
    _sell(smaregi, 1, terminal="1")
    _sell(smaregi, 1, terminal="2")
    assert tasks.poll_due.delay().get() == 2
    first_option = License.objects.filter(customer=pos_alpha.operator, kind=LicenseKind.POS_OPTION).order_by("id")[0]
    yesterday = timezone.localdate() - timedelta(days=1)
    License.objects.filter(pk=first_option.pk).update(starts_on=yesterday - timedelta(days=30), ends_on=yesterday)
    _sell(smaregi, 1, terminal="2")
    assert tasks.poll_due.delay().get() == 1  # one option left: the camera linked first keeps it
    later.refresh_from_db()
    assert later.status == LinkStatus.NO_OPTION
    assert PosTransaction.objects.filter(register_no="2").count() == 1


# ---------------------------------------------------------------- webhook (Smaregi API送信)


def _push(connection, rows, *, secret=None, proc_name="transaction_send", **extra):
    import json

    from django.test import Client

    url = reverse(
        "pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": secret or connection.webhook_secret}
    )
    params = json.dumps(
        {"proc_info": {"proc_division": "U"}, "data": [{"table_name": "TransactionHead", "rows": rows}]}
    )
    return Client().post(url, {"proc_name": proc_name, "params": params, **extra})


def test_webhook_stores_the_documented_push_under_the_terminals_link(smaregi, smaregi_link):
    rows = _sell(smaregi, 1) + _sell(smaregi, 1, terminal="2")  # terminal 2 has no link: ignored
    response = _push(smaregi_link.connection, rows)
    assert response.status_code == 200 and response.json() == {"stored": 1, "ignored": 1}
    _push(smaregi_link.connection, rows)
    _poll(smaregi_link)  # polling sees the same transaction: still one row
    assert PosTransaction.objects.count() == 1
    connection = PosConnection.objects.get(pk=smaregi_link.connection_id)
    assert connection.webhook_state == "ok" and connection.webhook_success_at is not None


def test_webhook_with_a_wrong_secret_is_404_and_the_link_page_says_so(pos_alpha, smaregi, smaregi_link):
    rows = _sell(smaregi, 1)
    assert _push(smaregi_link.connection, rows).status_code == 200
    success = PosConnection.objects.get(pk=smaregi_link.connection_id).webhook_success_at
    assert _push(smaregi_link.connection, rows, secret="x" * 43).status_code == 404
    assert _push(smaregi_link.connection, rows, contract_id="another").status_code == 404
    connection = PosConnection.objects.get(pk=smaregi_link.connection_id)
    assert connection.webhook_state == "refused" and connection.webhook_success_at == success
    page = client_for(pos_alpha.admin).get(reverse("pos_link:links")).content.decode()
    assert "Refused: wrong secret or contract" in page
    assert timezone.localtime(success).strftime("%Y/%m/%d %H:%M:%S") in page


@pytest.mark.parametrize(
    "body",
    [{"proc_name": "transaction_send", "params": "{not json"}, {"proc_name": "transaction_send", "params": "{}"},
     {"params": "{}"}, {"proc_name": "transaction_send", "params": '{"data": [{"table_name": "TransactionHead", '
                                                                 '"rows": [{"total": "1"}]}]}'}],
)  # fmt: skip
def test_webhook_rejects_a_malformed_push_and_stores_nothing(smaregi_link, body):
    from django.test import Client

    connection = smaregi_link.connection
    url = reverse("pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret})
    response = Client().post(url, body)
    assert response.status_code == 400 and not PosTransaction.objects.exists()
    assert PosConnection.objects.get(pk=connection.pk).webhook_state == "malformed"


def test_webhook_with_a_json_body_instead_of_the_form_is_refused(smaregi_link):
    from django.test import Client

    connection = smaregi_link.connection
    url = reverse("pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret})
    response = Client().post(url, {"transactions": []}, content_type="application/json")
    assert response.status_code == 400


def test_a_push_of_another_table_is_accepted_and_ignored(smaregi_link):
    response = _push(smaregi_link.connection, [], proc_name="stock_send")
    assert response.status_code == 200 and response.json()["stored"] == 0


def test_a_platform_webhook_makes_the_contracts_links_poll_at_once(
    smaregi, platform_link, django_capture_on_commit_callbacks
):
    import json

    from django.test import Client

    from tests.pos_link.conftest import fixture

    _poll(platform_link)
    PosLink.objects.filter(pk=platform_link.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=30))
    (row,) = _sell(smaregi, 1, contract=PLATFORM_CONTRACT)
    body = fixture("smaregi_platform_webhook")["request"]["body"]
    body.update(contractId=PLATFORM_CONTRACT, transactionHeadIds=[row["transactionHeadId"]])
    connection = platform_link.connection
    url = reverse("pos_link:webhook", kwargs={"connection_id": connection.pk, "secret": connection.webhook_secret})
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            url, json.dumps(body), content_type="application/json", HTTP_SMAREGI_EVENT="pos:transactions"
        )
    assert response.status_code == 200 and response.json() == {"queued": 1}
    assert PosTransaction.objects.filter(provider_transaction_id=row["transactionHeadId"]).exists()
    other = Client().post(
        url, json.dumps({**body, "contractId": "another"}), content_type="application/json",
        HTTP_SMAREGI_EVENT="pos:transactions",
    )  # fmt: skip
    assert other.status_code == 404
