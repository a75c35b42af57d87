"""Bad input: 400 for a body that is not a JSON object, 422 with per-field messages for
wrong types and broken rules, and never anything stored."""

import pytest

from workshop.models import EventStatus, Role

# (changes to a valid body, the field keys the 422 must name)
BAD_FIELDS = [
    ({"capacity": "10"}, {"capacity"}),
    ({"capacity": True}, {"capacity"}),
    ({"capacity": 12.5}, {"capacity"}),
    ({"capacity": 10**12}, {"capacity"}),
    ({"capacity": 0}, {"capacity"}),
    ({"unit_quota": "3"}, {"unit_quota"}),
    ({"capacity": 5, "unit_quota": 10}, {"unit_quota"}),
    ({"starts_at": "tomorrow"}, {"starts_at"}),
    ({"starts_at": "2030-01-25"}, {"starts_at"}),
    ({"starts_at": 1895000000}, {"starts_at"}),
    ({"starts_at": None}, {"starts_at"}),
    ({"ends_at": "0001-01-01T00:00:00+07:00"}, {"ends_at"}),
    ({"ends_at": "2030-01-25T07:00:00+07:00"}, {"ends_at"}),
    ({"registration_opens_at": "kemarin"}, {"registration_opens_at"}),
    ({"registration_closes_at": "2030-02-01T00:00:00+07:00"}, {"registration_closes_at"}),
    ({"days": "2030-01-25"}, {"days"}),
    ({"days": ["25/01/2030"]}, {"days"}),
    ({"days": [20300125]}, {"days"}),
    ({"days": ["2030-02-01"]}, {"days"}),
    ({"waitlist": "ya"}, {"waitlist"}),
    ({"waitlist": None}, {"waitlist"}),
    ({"waitlist": 1}, {"waitlist"}),
    ({"unit_id": "1"}, {"unit_id"}),
    ({"unit_id": 999_999}, {"unit_id"}),
    ({"unit_id": 10**20}, {"unit_id"}),
    ({"days": ["0001-01-01"]}, {"days"}),
    ({"agenda": [{"starts_at": "9999-12-31T23:00:00-05:00", "title": "Akhir"}]}, {"agenda"}),
    ({"registration_opens_at": "0001-01-01T00:00:00"}, {"registration_opens_at"}),
    ({"speakers": "Elke Rapp"}, {"speakers"}),
    ({"speakers": ["Elke Rapp"]}, {"speakers"}),
    ({"speakers": [None]}, {"speakers"}),
    ({"speakers": [{"name": 5}]}, {"speakers"}),
    ({"speakers": [{"affiliation": "GIZ"}]}, {"speakers"}),
    ({"speakers": [{"name": "Elke Rapp", "role": "ketua"}]}, {"speakers"}),
    ({"speakers": [{"name": ""}]}, {"speakers"}),
    ({"agenda": [["08:00", "Pembukaan"]]}, {"agenda"}),
    ({"agenda": [{"title": "Pembukaan"}]}, {"agenda"}),
    ({"agenda": [{"starts_at": "pagi", "title": "Pembukaan"}]}, {"agenda"}),
    ({"agenda": [{"starts_at": "2030-01-28T08:00", "title": "Di luar jadwal"}]}, {"agenda"}),
    ({"title": "x" * 10_000}, {"title"}),
    ({"title": "   "}, {"title"}),
    ({"title": None}, {"title"}),
    ({"title": 42}, {"title"}),
    ({"title": "Rapat\x00"}, {"title"}),
    ({"title": "Rapat \ud800"}, {"title"}),
    ({"description": ["a"]}, {"description"}),
    ({"venue": ""}, {"venue"}),
    ({"status": "archived"}, {"status"}),
    ({"status": "cancelled"}, {"status"}),
    ({"status": None}, {"status"}),
    ({"colour": "merah"}, {"colour"}),
    ({"id": 7}, {"id"}),
    ({"owner_id": 1}, {"owner_id"}),
    (
        {"capacity": "10", "starts_at": "tomorrow", "speakers": [1], "extra": 1},
        {"capacity", "starts_at", "speakers", "extra"},
    ),
]


@pytest.fixture
def organizer(token_user):
    return token_user(Role.ORGANIZER)


@pytest.fixture
def auth(bearer, organizer):
    return bearer(organizer)


def assert_invalid(response, fields):
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["message"]
    assert set(body["fields"]) == fields
    for messages in body["fields"].values():
        assert messages
        assert all(isinstance(m, str) and m for m in messages)


@pytest.mark.parametrize(("changes", "fields"), BAD_FIELDS)
def test_create_with_bad_field_is_422_and_stores_nothing(
    client, auth, event_body, count_rows, changes, fields
):
    before = count_rows()
    response = client.post("/api/v1/events", json=event_body(**changes), headers=auth)
    assert_invalid(response, fields)
    assert count_rows() == before


@pytest.mark.parametrize("missing", ["title", "venue", "starts_at", "ends_at"])
def test_create_without_required_field(client, auth, event_body, count_rows, missing):
    body = event_body()
    del body[missing]
    before = count_rows()
    response = client.post("/api/v1/events", json=body, headers=auth)
    assert_invalid(response, {missing})
    assert response.get_json()["fields"][missing] == ["Wajib diisi."]
    assert count_rows() == before


def test_inactive_unit_is_refused(client, auth, event_body, make_unit, count_rows):
    unit = make_unit(active=False)
    before = count_rows()
    response = client.post("/api/v1/events", json=event_body(unit_id=unit.id), headers=auth)
    assert_invalid(response, {"unit_id"})
    assert count_rows() == before


def test_messages_are_indonesian_and_name_the_item(client, auth, event_body):
    response = client.post(
        "/api/v1/events",
        json=event_body(capacity="10", speakers=[{"name": "A"}, {"name": 3}]),
        headers=auth,
    )
    fields = response.get_json()["fields"]
    assert fields["capacity"] == ["Harus bilangan bulat atau null."]
    assert fields["speakers"] == ["Narasumber ke-2, name: Harus berupa teks."]
    assert response.get_json()["message"] == "Periksa kembali data yang dikirim."


# Cancelling is a valid change for an existing draft; every other case is bad on PATCH too.
@pytest.mark.parametrize(
    ("changes", "fields"), [case for case in BAD_FIELDS if case[0] != {"status": "cancelled"}]
)
def test_patch_with_bad_field_is_422_and_changes_nothing(
    client, auth, organizer, make_event, count_rows, changes, fields
):
    event = make_event(owner=organizer, status=EventStatus.DRAFT)
    url = f"/api/v1/events/{event.id}"
    stored = client.get(url, headers=auth).get_json()
    before = count_rows()
    response = client.patch(url, json=changes, headers=auth)
    assert_invalid(response, fields)
    assert client.get(url, headers=auth).get_json() == stored
    assert count_rows() == before


NOT_AN_OBJECT = [
    pytest.param("not json at all", "application/json", id="garbage"),
    pytest.param("[1, 2, 3]", "application/json", id="array"),
    pytest.param('"a string"', "application/json", id="string"),
    pytest.param("null", "application/json", id="null"),
    pytest.param("", "application/json", id="empty"),
    pytest.param('{"title": "x"', "application/json", id="truncated"),
    pytest.param("title=Rapat&venue=Aula", "application/x-www-form-urlencoded", id="form"),
    pytest.param('{"title": "Rapat"}', "text/plain", id="text-plain"),
    pytest.param("[" * 10_000 + "]" * 10_000, "application/json", id="deeply-nested"),
]


@pytest.mark.parametrize(("data", "content_type"), NOT_AN_OBJECT)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_body_that_is_not_a_json_object_is_400(
    client, auth, organizer, make_event, count_rows, data, content_type, method
):
    event = make_event(owner=organizer)
    url = "/api/v1/events" if method == "POST" else f"/api/v1/events/{event.id}"
    before = count_rows()
    response = client.open(url, method=method, data=data, content_type=content_type, headers=auth)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_request"
    assert "JSON" in body["message"]
    assert count_rows() == before
