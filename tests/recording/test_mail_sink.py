"""The demo SMTP sink (aiosmtpd) and the staff page that lists what it received."""

import smtplib
from email.message import EmailMessage

import pytest
from django.urls import reverse

from demo.mail_sink import MailSink
from recording.sunk_mails import find_mail, list_mails
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.waiting import patience

pytestmark = pytest.mark.django_db


def send(port: int, subject: str, to: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, "portal@localhost", to
    message.set_content("本文 body")
    with smtplib.SMTP("127.0.0.1", port, timeout=patience(10)) as smtp:
        smtp.send_message(message)


def test_the_sink_stores_each_message_as_an_eml_file(tmp_path):
    with MailSink(tmp_path) as sink:
        send(sink.port, "first", "a@example.com")
        send(sink.port, "二通目", "b@example.com")
    mails = list_mails(tmp_path)
    assert [m.subject for m in mails] == ["二通目", "first"]  # newest first
    assert mails[1].to == "a@example.com"
    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_find_mail_refuses_names_the_sink_did_not_make(tmp_path):
    (tmp_path / "secret.txt").write_text("x")
    assert find_mail(tmp_path, "../secret.txt") is None
    assert find_mail(tmp_path, "secret.txt") is None


def test_staff_see_the_demo_mails_and_others_get_403(alpha, settings, tmp_path):
    settings.RECORDING_MAIL_SINK_DIR = tmp_path
    with MailSink(tmp_path) as sink:
        send(sink.port, "Trouble: Demo Cam", "kanri@example.com")
    staff = UserFactory(operator=alpha.operator, email="staff@example.com", is_staff=True)
    url = reverse("recording:staff_mails")
    page = client_for(staff).get(url)
    assert page.status_code == 200
    assert b"Trouble: Demo Cam" in page.content and b"kanri@example.com" in page.content
    one = client_for(staff).get(url, {"mail": list_mails(tmp_path)[0].name})
    assert "本文 body".encode() in one.content
    assert client_for(staff).get(url, {"mail": "../../etc/passwd"}).status_code == 404
    assert client_for(alpha.admin).get(url).status_code == 403
