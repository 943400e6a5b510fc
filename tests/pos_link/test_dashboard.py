"""The camera dashboard (docs/product.md §8.2): timeline ranges with transaction marks, seek position, the
transaction list with every field, kind filter, search, pagination and the thumbnail hook."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pos_link import thumbnails
from tests.conftest import client_for
from tests.pos_link.factories import link_of, transaction_of

pytestmark = pytest.mark.django_db


def _url(tenant, **params):
    from urllib.parse import urlencode

    base = reverse("pos_link:camera_dashboard", kwargs={"camera_id": tenant.camera.pk})
    return base + ("?" + urlencode(params) if params else "")


@pytest.fixture
def sales(pos_alpha):
    now = timezone.now()
    return {
        "pay": transaction_of(pos_alpha, provider_id="1", receipt_no="R-1001", staff="Tanaka",
                              occurred_at=now - timedelta(minutes=3), entered_at=now - timedelta(minutes=8),
                              total=Decimal(140000), deposit=Decimal(150000), change=Decimal(10000)),
        "cancel": transaction_of(pos_alpha, provider_id="2", receipt_no="R-1002", staff="Sato", kind="cancel",
                                 occurred_at=now - timedelta(hours=2), payment_method="credit"),
        "delete": transaction_of(pos_alpha, provider_id="3", receipt_no="R-1003", staff="Kimura", kind="delete",
                                 register_no="7", occurred_at=now - timedelta(hours=30)),
    }  # fmt: skip


def test_dashboard_lists_every_field_of_a_transaction(pos_alpha, sales):
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha)).content.decode()
    for text in ("R-1001", "¥140,000", "¥150,000", "¥10,000", "Tanaka", "Cash", "Payment", "Card", "Cancel"):
        assert text in page
    entered = timezone.localtime(sales["pay"].entered_at).strftime("%H:%M")
    assert f"Entry time {entered}" in page
    assert timezone.localtime(sales["pay"].occurred_at).strftime("%Y/%m/%d %H:%M:%S") in page
    assert "No image" in page  # thumbnail placeholder until recording can provide frames


def test_timeline_marks_follow_the_range(pos_alpha, sales):
    client = client_for(pos_alpha.viewer)
    assert client.get(_url(pos_alpha, window="72h")).content.decode().count('class="pos-mark') == 3
    assert client.get(_url(pos_alpha, window="24h")).content.decode().count('class="pos-mark') == 2
    assert client.get(_url(pos_alpha, window="10m")).content.decode().count('class="pos-mark') == 1
    for key in ("72H", "24H", "6H", "1H", "10M"):
        assert f">{key}</a>" in client.get(_url(pos_alpha)).content.decode()


def test_seek_position_is_set_from_the_clicked_transaction(pos_alpha, sales):
    at = sales["cancel"].occurred_at
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha, window="6h", at=at.isoformat())).content.decode()
    assert 'id="pos-seek" style="left:' in page
    assert timezone.localtime(at).strftime("%Y/%m/%d %H:%M:%S") in page.split('id="pos-seek-label"')[1][:60]


def test_seek_outside_the_range_recentres_the_timeline(pos_alpha, sales):
    at = sales["delete"].occurred_at  # 30 h ago, outside a 1 h range ending now
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha, window="1h", at=at.isoformat())).content.decode()
    assert 'id="pos-seek" style="left: 50.0%"' in page


@pytest.mark.parametrize(("kind", "shown", "hidden"), [("cancel", "R-1002", "R-1001"), ("delete", "R-1003", "R-1002")])
def test_filter_by_kind(pos_alpha, sales, kind, shown, hidden):
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha, kind=kind)).content.decode()
    assert shown in page and hidden not in page


@pytest.mark.parametrize(("q", "shown"), [("R-1002", "R-1002"), ("kimura", "R-1003"), ("7", "R-1003")])
def test_search_by_receipt_register_or_staff(pos_alpha, sales, q, shown):
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha, q=q)).content.decode()
    assert shown in page
    assert page.count('class="pos-tx ') == 1


def test_search_without_match_says_so(pos_alpha, sales):
    assert "No transaction matches." in client_for(pos_alpha.viewer).get(_url(pos_alpha, q="zzz")).content.decode()


def test_long_lists_are_paginated(pos_alpha):
    now = timezone.now()
    for i in range(25):
        transaction_of(pos_alpha, provider_id=f"p{i}", receipt_no=f"N{i:03d}", occurred_at=now - timedelta(minutes=i))
    client = client_for(pos_alpha.viewer)
    first = client.get(_url(pos_alpha)).content.decode()
    second = client.get(_url(pos_alpha, page=2)).content.decode()
    assert "N000" in first and "N024" not in first and "Page 1 of 2" in first
    assert "N024" in second and "N000" not in second


def test_empty_dashboard_and_index(pos_alpha):
    client = client_for(pos_alpha.viewer)
    assert "No camera is linked" in client.get(reverse("pos_link:dashboard")).content.decode()
    assert "No transaction yet." in client.get(_url(pos_alpha)).content.decode()
    link_of(pos_alpha)
    assert "Alpha Cam" in client.get(reverse("pos_link:dashboard")).content.decode()


def test_thumbnail_hook_is_used_when_it_returns_an_image(pos_alpha, sales, monkeypatch):
    monkeypatch.setattr(
        "pos_link.views.thumbnails_for",
        lambda rows, blocked=False: {tx.pk: f"/media/thumb-{tx.camera_id}.jpg" for tx in rows},
    )
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha)).content.decode()
    assert f'src="/media/thumb-{pos_alpha.camera.pk}.jpg"' in page
    assert thumbnails.thumbnail_for(sales["pay"]) is None  # no recording of that moment: the placeholder


def test_dashboards_of_other_operators_are_404(pos_alpha, bravo):
    transaction_of(bravo, receipt_no="BRAVO-RECEIPT")
    client = client_for(pos_alpha.admin)
    assert client.get(_url(bravo)).status_code == 404
    assert "BRAVO-RECEIPT" not in client.get(_url(pos_alpha, q="BRAVO")).content.decode()
    assert "Bravo Cam" not in client.get(reverse("pos_link:dashboard")).content.decode()


def test_dashboard_and_links_page_in_japanese(pos_alpha, sales):
    client = client_for(pos_alpha.admin)
    page = client.get(_url(pos_alpha), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    for text in ("支払い", "キャンセル", "レシートNo.", "預かり金", "釣り銭", "入店時間", "レシートNo/レジNo/担当"):
        assert text in page
    links = client.get(reverse("pos_link:links"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "POSレジ連携設定" in links and "スマレジの端末を追加" in links


def test_the_dashboard_shows_the_live_video_when_no_transaction_is_selected(pos_alpha, sales):
    from devices.models import Device

    Device.objects.filter(pk=pos_alpha.camera.pk).update(stream_source="rtsp", rtsp_url="rtsp://192.0.2.10/stream")
    client = client_for(pos_alpha.viewer)
    page = client.get(_url(pos_alpha)).content.decode()
    assert 'id="live-video"' in page and "/recording/live/" in page.split('id="live-video"')[1][:400]
    assert "recording/live.js" in page and "hls.min.js" in page
    assert 'id="pos-live-button" hidden' in page  # live now: the button to return is hidden
    seeking = client.get(_url(pos_alpha, at=sales["pay"].occurred_at.isoformat())).content.decode()
    assert '<div id="pos-live" hidden>' in seeking and 'id="pos-live-button">' in seeking


def test_without_stream_settings_the_dashboard_says_there_is_no_live_picture(pos_alpha, sales):
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha)).content.decode()
    assert 'id="live-video"' not in page and "no live picture" in page


def test_payment_methods_are_labelled_and_unknown_ones_shown_as_other(pos_alpha):
    transaction_of(pos_alpha, provider_id="m1", payment_method="cash+card")
    transaction_of(pos_alpha, provider_id="m2", payment_method="PayPay")
    page = client_for(pos_alpha.viewer).get(_url(pos_alpha)).content.decode()
    assert "Cash + Card" in page and "Other (PayPay)" in page
