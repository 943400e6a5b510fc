"""One rule for the client's address everywhere: REMOTE_ADDR, unless a trusted proxy's header is configured."""

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from portal.client_ip import client_ip
from tenants.models import LoginHistory


def _request(**meta):
    return RequestFactory().get("/", **meta)


def test_without_a_configured_proxy_a_forwarded_header_is_ignored(settings):
    settings.CLIENT_IP_HEADER = ""
    assert client_ip(_request(REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR="203.0.113.66")) == "192.0.2.5"
    assert client_ip(None) is None


def test_behind_a_proxy_its_header_names_the_client_and_garbage_falls_back(settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    # The client may prepend anything; the last entry is the one the proxy added.
    forwarded = _request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.66")
    assert client_ip(forwarded) == "203.0.113.66"
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:db8::1")) == "2001:db8::1"
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.2"
    assert client_ip(_request(REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_the_login_history_records_the_proxied_address(alpha, password, settings, client):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client.post(
        reverse("tenants:login"),
        {"email": alpha.admin.email, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="203.0.113.77",
    )
    assert LoginHistory.objects.get(user=alpha.admin).ip == "203.0.113.77"


def test_a_header_name_that_is_not_a_meta_key_stops_the_start(monkeypatch):
    import portal.settings.proxy as proxy_settings

    monkeypatch.setenv("CLIENT_IP_HEADER", "X-Real-IP")
    with pytest.raises(ImproperlyConfigured, match="CLIENT_IP_HEADER"):
        importlib.reload(proxy_settings)
    monkeypatch.delenv("CLIENT_IP_HEADER")
    importlib.reload(proxy_settings)
