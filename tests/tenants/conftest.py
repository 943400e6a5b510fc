"""Helpers for the accounts tests: a controllable clock, logging in through the real form,
and reading codes and links out of the mails."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Freezes `timezone.now` at 2026-03-02 14:05 in Tokyo (05:05 UTC); tests move it on."""
    frozen = Clock(datetime(2026, 3, 2, 5, 5, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def post_login(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(reverse("tenants:login"), {"email": email, "password": password}, **extra)


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def link_in(message) -> str:
    """The path of the first portal link in a mail body."""
    url = re.search(r"https?://\S+", message.body).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def logged_out_client() -> Client:
    return Client()
