"""Bearer-token authentication: the API knows only tokens, never the session cookie."""

import pytest
from flask_login.utils import _create_identifier

from workshop.extensions import db
from workshop.models import EventStatus, Role, User


def test_missing_token_on_protected_endpoint_is_401_with_challenge(client, event_body):
    response = client.post("/api/v1/events", json=event_body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.get_json()
    assert body["error"] == "unauthorized"
    assert "Authorization" in body["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wks_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Basic b3JnYW5pemVyOnNlY3JldA==",
        "wks_token-without-scheme",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/units", "/api/v1/openapi.json"])
def test_invalid_token_is_401_even_on_public_endpoints(client, header, path):
    response = client.get(path, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "invalid_token"


def test_public_endpoints_need_no_token(client):
    assert client.get("/api/v1/events").status_code == 200
    assert client.get("/api/v1/units").status_code == 200


def test_valid_token_authenticates_and_scheme_is_case_insensitive(
    client, token_user, make_token, event_body
):
    organizer = token_user(Role.ORGANIZER)
    token = make_token(organizer)
    response = client.post(
        "/api/v1/events", json=event_body(), headers={"Authorization": f"bearer {token}"}
    )
    assert response.status_code == 201
    assert response.get_json()["owner_id"] == organizer.id


def test_token_of_deactivated_user_is_rejected(app, client, token_user, make_token):
    organizer = token_user(Role.ORGANIZER)
    token = make_token(organizer)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    with app.app_context():
        db.session.get(User, organizer.id).active = False
        db.session.commit()
    response = client.get("/api/v1/events", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_wrong_role_with_valid_token_is_403(client, token_user, bearer, event_body):
    response = client.post(
        "/api/v1/events", json=event_body(), headers=bearer(token_user(Role.PARTICIPANT))
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_session_cookie_is_ignored(app, client, token_user, make_event, event_body, count_rows):
    """A browser session of an organizer is anonymous in the (CSRF-exempt) API."""
    organizer = token_user(Role.ORGANIZER)
    draft = make_event(owner=organizer, status=EventStatus.DRAFT)
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()  # what "strong" session protection checks
        session_id = organizer.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["_id"] = identifier
    assert client.get("/auth/password").status_code == 200  # the pages see the login
    before = count_rows()

    response = client.post("/api/v1/events", json=event_body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert count_rows() == before
    # Reading is anonymous too: the organizer's own draft stays hidden.
    assert client.get(f"/api/v1/events/{draft.id}").status_code == 404
    assert client.get("/api/v1/events").get_json()["count"] == 0


def test_session_from_real_login_is_ignored(client, make_user, login, event_body):
    organizer = make_user(Role.ORGANIZER)
    login(organizer)
    assert client.get("/").status_code == 200  # the session works for the pages
    assert client.post("/api/v1/events", json=event_body()).status_code == 401
