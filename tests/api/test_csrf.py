"""With CSRF protection on (as in production), the token-authenticated API needs no CSRF
token, while the cookie-authenticated pages still do."""

import pytest

from workshop.models import Role


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_api_write_needs_no_csrf_token(client, token_user, bearer, event_body):
    headers = bearer(token_user(Role.ORGANIZER))
    response = client.post("/api/v1/events", json=event_body(), headers=headers)
    assert response.status_code == 201
    response = client.patch(response.headers["Location"], json={"title": "Baru"}, headers=headers)
    assert response.status_code == 200


def test_pages_still_need_csrf_token(client):
    response = client.post("/auth/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
