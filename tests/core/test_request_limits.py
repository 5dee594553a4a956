"""Request bodies are refused from their headers: too large, or a file upload from nobody signed in."""

import json
import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.faults import free_port, wait_for

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


def test_api_refusals_answer_in_the_api_s_error_shape(client, db):
    too_large = post_with_length(client, "/api/v1/credentials/", 50 * 1024 * 1024)
    anonymous = post_with_length(client, "/api/v1/credentials/", 100 * 1024)

    assert too_large.status_code == 413
    assert too_large.json() == {"status": 413, "code": "too_large", "detail": too_large.json()["detail"], "fields": {}}
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"


# Against gunicorn, as deployed: the answer must come back while the client still holds back its body.


@pytest.fixture(scope="module")
def gunicorn_port():
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credtrack.settings",
        "DEBUG": "false",
        "SECRET_KEY": "request-limits-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "credtrack.wsgi", "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: _accepts(port) or server.poll() is not None, timeout=60, what="gunicorn to listen")
        assert server.poll() is None, server.stderr.read().decode()[-2000:] if server.stderr else ""
        # Django loads its URLs on the first request, slowly on a busy machine.
        raw_request(port, "/api/warm-up/", {"Content-Length": "10"}, timeout=120)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def raw_request(port: int, path: str, headers: dict[str, str], timeout: float = 20) -> tuple[str, str]:
    """Send the request line, the headers and ten bytes of body; return the status line and the body.

    The client never sends the rest of the body it announced: a server that waited for it would never
    answer (gunicorn's worker would be killed after 30 s), and the socket's timeout would raise first."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = "\r\n".join(lines) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + b"\r\n" + b"0123456789")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            answer += chunk
    status_line, _, rest = answer.decode().partition("\r\n")
    return status_line, rest.partition("\r\n\r\n")[2]


@pytest.mark.slow
def test_gunicorn_answers_413_before_a_50_mb_body_arrives(gunicorn_port):
    status, body = raw_request(
        gunicorn_port,
        "/me/credentials/upload/",
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(50 * 1024 * 1024)},
    )

    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert "too large" in body


@pytest.mark.slow
def test_gunicorn_answers_the_api_in_its_error_shape(gunicorn_port):
    status, body = raw_request(
        gunicorn_port,
        "/api/v1/credentials/",
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(50 * 1024 * 1024)},
    )

    assert status.startswith("HTTP/1.1 413")
    assert json.loads(body)["code"] == "too_large"


@pytest.mark.slow
def test_gunicorn_refuses_an_anonymous_upload_before_its_body(gunicorn_port):
    status, _ = raw_request(
        gunicorn_port,
        "/me/credentials/upload/",
        {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(5 * 1024 * 1024)},
    )

    assert status == "HTTP/1.1 403 Forbidden"


@pytest.mark.slow
def test_gunicorn_refuses_a_body_without_a_length(gunicorn_port):
    status, body = raw_request(
        gunicorn_port, "/accounts/login/", {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"}
    )

    assert status.startswith("HTTP/1.1 411") and body == "Send the request with a Content-Length."
