"""The OpenAPI schema generates without a warning, is valid, and its UIs are served from our own static files."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_valid_and_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    text = target.read_text()
    for path in ("/api/v1/findings/", "/api/v1/employees/{id}/compliance/", "/api/v1/compliance/departments/"):
        assert f"  {path}:" in text
    assert "apiToken:" in text


def test_every_operation_documents_its_errors(client, hr_admin):
    client.force_login(hr_admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in operation["responses"], (method, path)
    parameters = {p["name"] for p in schema["paths"]["/api/v1/employees/{id}/compliance/"]["get"]["parameters"]}
    assert {"as_of", "forecast", "If-None-Match"} <= parameters
    findings = {p["name"] for p in schema["paths"]["/api/v1/findings/"]["get"]["parameters"]}
    assert {"status", "department", "role", "certification", "expiring_within", "compliant"} <= findings


@pytest.mark.parametrize(("url", "asset"), [("/api/docs/", "swagger-ui-dist"), ("/api/redoc/", "redoc")])
def test_the_documentation_pages_use_no_cdn(client, hr_admin, url, asset):
    client.force_login(hr_admin)

    response = client.get(url)

    page = response.content.decode()
    assert response.status_code == 200
    assert f"/static/drf_spectacular_sidecar/{asset}" in page
    assert "cdn." not in page and "unpkg" not in page and "googleapis" not in page
    assert "<style" not in page and "<script>" not in page  # Redoc's run-time <style> aside, nothing inline


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/", "/api/schema/", "/api/docs/?script="])
def test_the_documentation_is_for_signed_in_users(client, url):
    assert client.get(url).status_code in (401, 403)


def test_the_swagger_page_runs_no_inline_script(client, hr_admin):
    client.force_login(hr_admin)

    page = client.get("/api/docs/").content.decode()

    assert "<script>" not in page.replace(" ", "")
    assert client.get("/api/docs/?script=").status_code == 200
