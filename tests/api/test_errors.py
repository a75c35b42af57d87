"""Every API error is JSON of one shape: {"error", "message", "fields"?}; never a traceback."""

import pytest

from workshop.models import Role
from workshop.services import events as event_service


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("GET", "/api/v1/events/999999", 404, "not_found"),
        ("GET", "/api/v1/events/abc", 404, "not_found"),
        ("DELETE", "/api/v1/events", 405, "method_not_allowed"),
        ("PUT", "/api/v1/events/1", 405, "method_not_allowed"),
        ("POST", "/api/v1/units", 405, "method_not_allowed"),
    ],
)
def test_error_shape(client, method, path, status, error):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) <= {"error", "message", "fields"}
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_unhandled_exception_is_json_500_without_traceback(client, monkeypatch):
    def explode(user):
        raise RuntimeError("connection string postgresql://secret@db/internal")

    monkeypatch.setattr(event_service, "api_visible_events", explode)
    response = client.get("/api/v1/events")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "server_error"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "secret" not in text
    assert "RuntimeError" not in text


def test_crash_after_a_flush_stores_nothing(
    client, token_user, bearer, event_body, count_rows, monkeypatch
):
    """create_event has flushed the new row when publishing fails: it must not survive."""

    def explode(event, actor):
        raise RuntimeError("boom")

    monkeypatch.setattr(event_service, "publish_event", explode)
    headers = bearer(token_user(Role.ORGANIZER))
    before = count_rows()
    response = client.post("/api/v1/events", json=event_body(status="published"), headers=headers)
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"
    assert count_rows() == before


def test_api_responses_are_not_cached(client):
    assert client.get("/api/v1/events").headers["Cache-Control"] == "no-store"
