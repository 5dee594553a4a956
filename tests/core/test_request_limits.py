"""Request bodies are refused from their headers: too large, or a file upload from nobody signed in."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def post_with_length(client: Client, path: str, length: int, **extra):
    """A multipart POST claiming `length` bytes but carrying ten: reading it would fail, refusing it will not."""
    return client.generic(
        "POST", path, b"0123456789", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(length), **extra
    )


def test_a_50_mb_upload_is_refused_before_it_is_read(client, alice):
    client.force_login(alice.user)

    response = post_with_length(client, reverse("web:upload_proof"), 50 * 1024 * 1024)

    assert response.status_code == 413


def test_an_anonymous_upload_never_reaches_the_view(client, db):
    response = post_with_length(client, reverse("web:upload_proof"), 100 * 1024)

    assert response.status_code == 403


def test_an_anonymous_sign_in_form_is_let_through(client, db):
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})

    assert response.status_code == 200  # the form again, with its error: the middleware let it through


def test_an_api_client_with_a_token_is_left_to_the_api(client, db):
    response = post_with_length(client, "/api/v1/credentials/", 100 * 1024, HTTP_AUTHORIZATION="Bearer nonsense")

    assert response.status_code == 401  # the API's own answer to a bad token: the middleware let it through


def test_django_holds_small_uploads_in_memory_and_larger_ones_in_temporary_files(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2 * 1024 * 1024
    assert settings.MAX_REQUEST_BODY_BYTES < 50 * 1024 * 1024
