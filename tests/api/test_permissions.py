"""Permission table: endpoint x role (x own/other object) -> status, as pretix does it.

"owner" is the organizer who owns the events; "other_organizer" owns none of them.
Someone else's draft or someone else's event for a write is 404, a wrong role 403,
no token 401.
"""

import pytest

from workshop.models import EventStatus

# (method, path, role, expected status). {draft} and {published} are the owner's events.
TABLE = (
    [
        ("GET", "/api/v1/events", role, 200)
        for role in ("admin", "owner", "other_organizer", "staff", "participant", "anonymous")
    ]
    + [
        ("GET", "/api/v1/units", role, 200)
        for role in ("admin", "owner", "other_organizer", "staff", "participant", "anonymous")
    ]
    + [
        ("GET", "/api/v1/openapi.json", role, 200)
        for role in ("admin", "owner", "other_organizer", "staff", "participant", "anonymous")
    ]
    + [
        ("GET", "/api/v1/events/{published}", role, 200)
        for role in ("admin", "owner", "other_organizer", "staff", "participant", "anonymous")
    ]
    + [
        ("GET", "/api/v1/events/{draft}", "admin", 200),
        ("GET", "/api/v1/events/{draft}", "owner", 200),
        ("GET", "/api/v1/events/{draft}", "other_organizer", 404),
        ("GET", "/api/v1/events/{draft}", "staff", 404),
        ("GET", "/api/v1/events/{draft}", "participant", 404),
        ("GET", "/api/v1/events/{draft}", "anonymous", 404),
        ("GET", "/api/v1/events/{missing}", "admin", 404),
        ("POST", "/api/v1/events", "admin", 201),
        ("POST", "/api/v1/events", "owner", 201),
        ("POST", "/api/v1/events", "other_organizer", 201),
        ("POST", "/api/v1/events", "staff", 403),
        ("POST", "/api/v1/events", "participant", 403),
        ("POST", "/api/v1/events", "anonymous", 401),
        ("PATCH", "/api/v1/events/{published}", "admin", 200),
        ("PATCH", "/api/v1/events/{published}", "owner", 200),
        ("PATCH", "/api/v1/events/{published}", "other_organizer", 404),
        ("PATCH", "/api/v1/events/{published}", "staff", 403),
        ("PATCH", "/api/v1/events/{published}", "participant", 403),
        ("PATCH", "/api/v1/events/{published}", "anonymous", 401),
        ("PATCH", "/api/v1/events/{draft}", "admin", 200),
        ("PATCH", "/api/v1/events/{draft}", "owner", 200),
        ("PATCH", "/api/v1/events/{draft}", "other_organizer", 404),
        ("PATCH", "/api/v1/events/{draft}", "staff", 403),
        ("PATCH", "/api/v1/events/{draft}", "participant", 403),
        ("PATCH", "/api/v1/events/{draft}", "anonymous", 401),
        ("PATCH", "/api/v1/events/{missing}", "owner", 404),
    ]
)


@pytest.mark.parametrize(("method", "path", "role", "expected"), TABLE)
def test_permission_table(
    client, actors, bearer, make_event, load_event, event_body, method, path, role, expected
):
    draft = make_event(owner=actors["owner"], status=EventStatus.DRAFT, title="Draf")
    published = make_event(owner=actors["owner"], status=EventStatus.PUBLISHED, title="Terbit")
    url = path.format(draft=draft.id, published=published.id, missing=published.id + 1000)
    body = {"POST": event_body(), "PATCH": {"title": "Judul baru"}}.get(method)

    response = client.open(url, method=method, json=body, headers=bearer(actors[role]))

    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if expected >= 400:
        assert (
            response.get_json()["error"]
            == {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expected]
        )
    if method == "PATCH" and url.endswith((f"/{draft.id}", f"/{published.id}")):
        event_id = int(url.rsplit("/", 1)[1])
        title = load_event(event_id).title
        assert (title == "Judul baru") == (expected == 200)
