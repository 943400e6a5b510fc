"""The API schema and its docs page need a logged-in user, unless API_DOCS_PUBLIC says they are public."""

from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for


def test_the_default_keeps_the_docs_private():
    assert django_settings.API_DOCS_PUBLIC is False


def test_without_a_login_the_schema_is_refused_and_the_docs_send_to_the_login(db, settings):
    settings.API_DOCS_PUBLIC = False
    schema = Client().get(reverse("api-schema"))
    assert schema.status_code in (401, 403) and b"/api/v1/" not in schema.content
    docs = Client().get(reverse("api-docs"))
    assert docs.status_code == 302 and docs["Location"].startswith(f"{reverse('tenants:login')}?next=/api/docs/")


def test_a_logged_in_user_reads_the_schema_and_the_docs(alpha, settings):
    settings.API_DOCS_PUBLIC = False
    client = client_for(alpha.viewer)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200 and b"/api/v1/buildings/" in schema.content
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_setting_makes_them_public(db, settings):
    settings.API_DOCS_PUBLIC = True
    assert Client().get(reverse("api-schema")).status_code == 200
    assert Client().get(reverse("api-docs")).status_code == 200
