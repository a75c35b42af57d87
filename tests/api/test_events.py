"""Events through the API: visibility, create, partial update, status transitions."""

from datetime import UTC, date, datetime

import pytest

from workshop.models import EventStatus, Role

FULL_BODY = {
    "title": "Workshop Inovasi Pelayanan Publik",
    "description": "Pengenalan pendamping pelayanan publik untuk percepatan reformasi birokrasi.",
    "venue": "Ruang Rapat Pangripta (Nusantara), Bappeda Kabupaten Muara Enim",
    "starts_at": "2030-03-07T08:00",  # naive: read as WIB
    "ends_at": "2030-03-08T16:00:00+07:00",
    "capacity": 60,
    "unit_quota": 3,
    "waitlist": False,
    "registration_opens_at": "2030-01-20T00:00:00Z",
    "registration_closes_at": "2030-03-06T17:00:00+07:00",
    "speakers": [
        {"name": "Elke Rapp", "affiliation": "GIZ (team leader)"},
        {"name": "Hertian Silawati", "affiliation": "GIZ"},
        {"name": "Dina Limanto"},
    ],
    "agenda": [
        {"starts_at": "2030-03-07T08:30", "title": "Pembukaan", "speaker": "Ibrahim Iliyas"},
        {"starts_at": "2030-03-07T02:00:00Z", "title": "Sesi inovasi", "speaker": "Elke Rapp"},
        {"starts_at": "2030-03-08T08:30:00+07:00", "title": "Penyusunan proposal KIPP"},
    ],
}


@pytest.fixture
def organizer(token_user):
    return token_user(Role.ORGANIZER)


@pytest.fixture
def auth(bearer, organizer):
    return bearer(organizer)


def create(client, auth, body, status=201):
    response = client.post("/api/v1/events", json=body, headers=auth)
    assert response.status_code == status, response.get_json()
    return response.get_json()


# --- list and detail ---------------------------------------------------------


def test_list_shows_public_statuses_and_own_drafts(client, actors, bearer, make_event):
    owner, other = actors["owner"], actors["other_organizer"]
    titles = {}
    for status in EventStatus:
        event = make_event(owner=owner, status=status, title=f"Milik pemilik {status}")
        titles[event.id] = event.title
    others_draft = make_event(owner=other, status=EventStatus.DRAFT, title="Draf lain")

    def listed(role):
        body = client.get("/api/v1/events", headers=bearer(actors[role])).get_json()
        assert body["count"] == len(body["items"])
        return {item["title"] for item in body["items"]}

    public = {"Milik pemilik published", "Milik pemilik finished", "Milik pemilik cancelled"}
    for role in ("anonymous", "participant", "staff"):
        assert listed(role) == public
    assert listed("owner") == public | {"Milik pemilik draft"}
    assert listed("other_organizer") == public | {others_draft.title}
    assert listed("admin") == public | {"Milik pemilik draft", others_draft.title}


def test_detail_serialises_every_field(client, make_event, actors, make_unit):
    unit = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    event = make_event(owner=actors["owner"], capacity=40, unit_id=unit.id)
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert set(body) == {
        "id",
        "title",
        "description",
        "venue",
        "starts_at",
        "ends_at",
        "days",
        "capacity",
        "unit_quota",
        "waitlist",
        "registration_opens_at",
        "registration_closes_at",
        "status",
        "unit_id",
        "speakers",
        "agenda",
        "owner_id",
        "confirmed",
        "waitlisted",
        "checked_in",
    }
    assert (body["confirmed"], body["waitlisted"], body["checked_in"]) == (0, 0, 0)
    assert body["id"] == event.id
    assert body["owner_id"] == actors["owner"].id
    assert body["unit_id"] == unit.id
    assert body["capacity"] == 40
    assert body["status"] == "published"
    # make_event: 25 January 2030, 08.00-16.00 WIB.
    assert body["starts_at"] == "2030-01-25T08:00:00+07:00"
    assert body["ends_at"] == "2030-01-25T16:00:00+07:00"
    assert body["days"] == ["2030-01-25"]
    assert body["speakers"] == [{"name": "Elke Rapp", "affiliation": "GIZ"}]
    assert body["registration_opens_at"] is None


# --- create -----------------------------------------------------------------


def test_create_with_full_body(client, auth, organizer, load_event, make_unit):
    unit = make_unit(name="Bagian Organisasi Setda", short_name="Bag. Organisasi")
    body = create(client, auth, {**FULL_BODY, "unit_id": unit.id})

    assert body["status"] == "draft"
    assert body["owner_id"] == organizer.id
    assert body["unit_id"] == unit.id
    assert body["starts_at"] == "2030-03-07T08:00:00+07:00"
    assert body["ends_at"] == "2030-03-08T16:00:00+07:00"
    assert body["days"] == ["2030-03-07", "2030-03-08"]  # default: every WIB day
    assert body["registration_opens_at"] == "2030-01-20T07:00:00+07:00"
    assert body["registration_closes_at"] == "2030-03-06T17:00:00+07:00"
    assert (body["capacity"], body["unit_quota"], body["waitlist"]) == (60, 3, False)
    assert body["speakers"] == [
        {"name": "Elke Rapp", "affiliation": "GIZ (team leader)"},
        {"name": "Hertian Silawati", "affiliation": "GIZ"},
        {"name": "Dina Limanto", "affiliation": ""},
    ]
    assert body["agenda"] == [
        {
            "starts_at": "2030-03-07T08:30:00+07:00",
            "title": "Pembukaan",
            "speaker": "Ibrahim Iliyas",
        },
        {"starts_at": "2030-03-07T09:00:00+07:00", "title": "Sesi inovasi", "speaker": "Elke Rapp"},
        {
            "starts_at": "2030-03-08T08:30:00+07:00",
            "title": "Penyusunan proposal KIPP",
            "speaker": "",
        },
    ]
    assert body["description"] == FULL_BODY["description"]

    stored = load_event(body["id"])
    assert stored.starts_at == datetime(2030, 3, 7, 1, 0, tzinfo=UTC)  # stored in UTC
    assert stored.day_dates == [date(2030, 3, 7), date(2030, 3, 8)]
    assert len(stored.speakers) == 3
    assert len(stored.agenda) == 3
    # What GET answers is what POST answered.
    assert client.get(f"/api/v1/events/{body['id']}", headers=auth).get_json() == body


def test_create_answers_location_of_new_event(client, auth, event_body):
    response = client.post("/api/v1/events", json=event_body(), headers=auth)
    assert response.status_code == 201
    event_id = response.get_json()["id"]
    assert response.headers["Location"].endswith(f"/api/v1/events/{event_id}")
    assert client.get(response.headers["Location"], headers=auth).status_code == 200


def test_create_minimal_uses_defaults(client, auth, event_body):
    body = create(client, auth, event_body())
    assert body["description"] == ""
    assert body["days"] == ["2030-01-25", "2030-01-26"]
    assert (body["capacity"], body["unit_quota"], body["waitlist"]) == (None, None, True)
    assert (body["speakers"], body["agenda"], body["unit_id"]) == ([], [], None)


def test_create_with_explicit_days_and_nulls(client, auth, event_body):
    body = create(
        client,
        auth,
        event_body(
            ends_at="2030-01-27T16:00:00+07:00",
            days=["2030-01-27", "2030-01-25"],
            capacity=None,
            description=None,
            registration_opens_at=None,
        ),
    )
    assert body["days"] == ["2030-01-25", "2030-01-27"]
    assert body["capacity"] is None
    assert body["description"] == ""


def test_create_published(client, auth, event_body):
    body = create(client, auth, event_body(status="published"))
    assert body["status"] == "published"
    assert client.get(f"/api/v1/events/{body['id']}").status_code == 200  # public now


def test_html_in_title_is_stored_as_typed(client, auth, event_body, load_event):
    title = '<script>alert("x")</script> & <b>Rapat</b>'
    body = create(client, auth, event_body(title=title))
    assert body["title"] == title
    assert load_event(body["id"]).title == title


def test_long_title_is_refused(client, auth, event_body, count_rows):
    before = count_rows()
    response = client.post("/api/v1/events", json=event_body(title="x" * 10_000), headers=auth)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"title"}
    assert count_rows() == before


# --- partial update ------------------------------------------------------------


def test_patch_changes_only_given_fields(client, auth):
    created = create(client, auth, FULL_BODY)
    url = f"/api/v1/events/{created['id']}"
    response = client.patch(url, json={"capacity": 80, "venue": "Aula Bappeda"}, headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {**created, "capacity": 80, "venue": "Aula Bappeda"}
    assert client.get(url, headers=auth).get_json() == response.get_json()


def test_patch_can_clear_optional_fields(client, auth):
    created = create(client, auth, FULL_BODY)
    response = client.patch(
        f"/api/v1/events/{created['id']}",
        json={
            "capacity": None,
            "unit_quota": None,
            "registration_opens_at": None,
            "speakers": [],
            "agenda": [],
        },
        headers=auth,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["capacity"], body["unit_quota"], body["registration_opens_at"]) == (
        None,
        None,
        None,
    )
    assert (body["speakers"], body["agenda"]) == ([], [])
    assert body["registration_closes_at"] == created["registration_closes_at"]


def test_patch_moving_dates_moves_default_days(client, auth, event_body):
    created = create(client, auth, event_body())
    assert created["days"] == ["2030-01-25", "2030-01-26"]
    response = client.patch(
        f"/api/v1/events/{created['id']}",
        json={"starts_at": "2030-02-01T08:00", "ends_at": "2030-02-03T12:00"},
        headers=auth,
    )
    assert response.status_code == 200
    assert response.get_json()["days"] == ["2030-02-01", "2030-02-02", "2030-02-03"]


def test_patch_moving_dates_keeps_chosen_days_and_checks_them(client, auth, event_body):
    created = create(
        client, auth, event_body(ends_at="2030-01-27T16:00", days=["2030-01-25", "2030-01-27"])
    )
    url = f"/api/v1/events/{created['id']}"
    response = client.patch(url, json={"ends_at": "2030-01-26T16:00"}, headers=auth)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"days"}
    assert client.get(url, headers=auth).get_json() == created


def test_patch_with_empty_object_changes_nothing(client, auth, count_rows):
    created = create(client, auth, FULL_BODY)
    before = count_rows()
    response = client.patch(f"/api/v1/events/{created['id']}", json={}, headers=auth)
    assert response.status_code == 200
    assert response.get_json() == created
    assert count_rows() == before


def test_admin_may_patch_any_event(client, actors, bearer, make_event):
    event = make_event(owner=actors["owner"])
    response = client.patch(
        f"/api/v1/events/{event.id}", json={"title": "Oleh admin"}, headers=bearer(actors["admin"])
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == "Oleh admin"
    assert response.get_json()["owner_id"] == actors["owner"].id


# --- status ------------------------------------------------------------------


def test_status_transitions(client, auth, event_body, load_event):
    event_id = create(client, auth, event_body())["id"]
    url = f"/api/v1/events/{event_id}"

    def patch(status):
        return client.patch(url, json={"status": status}, headers=auth)

    assert patch("published").get_json()["status"] == "published"
    assert patch("cancelled").get_json()["status"] == "cancelled"
    response = patch("published")
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_transition"
    assert response.get_json()["message"]
    assert load_event(event_id).status == EventStatus.CANCELLED


def test_published_to_finished_and_draft_to_finished(client, auth, event_body):
    draft = create(client, auth, event_body())
    response = client.patch(
        f"/api/v1/events/{draft['id']}", json={"status": "finished"}, headers=auth
    )
    assert response.status_code == 409
    published = create(client, auth, event_body(status="published"))
    response = client.patch(
        f"/api/v1/events/{published['id']}", json={"status": "finished"}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "finished"


def test_refused_transition_stores_nothing_of_the_same_request(
    client, auth, event_body, count_rows
):
    created = create(client, auth, event_body(status="published"))
    url = f"/api/v1/events/{created['id']}"
    assert client.patch(url, json={"status": "cancelled"}, headers=auth).status_code == 200
    cancelled = client.get(url, headers=auth).get_json()
    before = count_rows()

    response = client.patch(url, json={"title": "Judul baru", "status": "draft"}, headers=auth)

    assert response.status_code == 409
    assert client.get(url, headers=auth).get_json() == cancelled
    assert count_rows() == before  # no audit row either


def test_status_change_alone_keeps_fields(client, auth):
    created = create(client, auth, FULL_BODY)
    response = client.patch(
        f"/api/v1/events/{created['id']}", json={"status": "published"}, headers=auth
    )
    assert response.get_json() == {**created, "status": "published"}


# --- units ------------------------------------------------------------------


def test_units_lists_active_units_by_name(client, make_unit):
    make_unit(name="Dinas Kesehatan", short_name="Dinkes")
    make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    make_unit(name="Dinas Lama", short_name="Lama", active=False)
    body = client.get("/api/v1/units").get_json()
    assert body["count"] == 2
    assert [(u["name"], u["short_name"]) for u in body["items"]] == [
        ("Badan Perencanaan Pembangunan Daerah", "Bappeda"),
        ("Dinas Kesehatan", "Dinkes"),
    ]
    assert all(set(u) == {"id", "name", "short_name"} for u in body["items"])
