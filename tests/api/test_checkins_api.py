"""Check-in through the API: permissions, every scan outcome, junk and bad input, the
nonce, undo, attendance per day and unit, and the unknown-code limit."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW, wib
from workshop.extensions import db
from workshop.models import AuditLog, Checkin, EventStatus, Role
from workshop.services import checkin

# FIXED_NOW is Tuesday 15 January 2030, 09.00 WIB: the first of the event's two days.
DAY_ONE, DAY_TWO = "2030-01-15", "2030-01-16"


@pytest.fixture
def owner(actors):
    return actors["owner"]


@pytest.fixture
def door_staff(actors, token_user, app):
    """actors plus "assigned" (staff at the event under test); "staff" is not assigned."""

    def assign(event):
        user = token_user(Role.STAFF)
        with app.app_context():
            checkin.assign_staff(
                db.session.merge(event), db.session.merge(user), db.session.merge(event.owner)
            )
            db.session.commit()
        return {**actors, "assigned": user}

    return assign


@pytest.fixture
def event(make_event, owner):
    return make_event(
        owner=owner, starts_at=wib(2030, 1, 15, 8), ends_at=wib(2030, 1, 16, 16), capacity=2
    )


@pytest.fixture
def rows(app):
    """The stored check-ins as (registration_id, day, scanned_by_id, method)."""

    def load():
        with app.app_context():
            return [
                (c.registration_id, c.day.date.isoformat(), c.scanned_by_id, str(c.method))
                for c in db.session.scalars(sa.select(Checkin).order_by(Checkin.id))
            ]

    return load


def scan(client, headers, event_id, code, status=200, **extra):
    response = client.post(
        "/api/v1/checkins", json={"code": code, "event_id": event_id, **extra}, headers=headers
    )
    assert response.status_code == status, response.get_json()
    return response.get_json()


# --- permissions -----------------------------------------------------------------------

SCAN_TABLE = [
    ("admin", 200),
    ("owner", 200),
    ("assigned", 200),
    ("staff", 403),
    ("other_organizer", 403),
    ("participant", 403),
    ("anonymous", 401),
]


@pytest.mark.parametrize(("role", "expected"), SCAN_TABLE)
def test_who_may_scan(client, bearer, event, door_staff, register, person, rows, role, expected):
    actors = door_staff(event)
    reg = register(event, person()).registration
    response = client.post(
        "/api/v1/checkins",
        json={"code": reg.check_in_code, "event_id": event.id},
        headers=bearer(actors[role]),
    )
    assert response.status_code == expected, response.get_json()
    if expected == 200:
        assert response.get_json()["result"] == "ok"
        assert rows() == [(reg.id, DAY_ONE, actors[role].id, "api")]
    else:
        assert response.get_json()["error"] in ("unauthorized", "forbidden")
        assert rows() == []


def test_a_scan_takes_one_connection_and_no_session(
    client, bearer, event, door_staff, register, person, rows, connection_use
):
    """The door's hottest request runs its Core statements on one connection of its own,
    without the ORM Session's transaction around them (it cost a scan about as much CPU
    as the statements)."""
    staff = door_staff(event)["assigned"]
    reg = register(event, person()).registration
    headers = bearer(staff)
    connection_use.update(checkouts=0, sessions=0)
    assert scan(client, headers, event.id, reg.check_in_code)["result"] == "ok"
    assert scan(client, headers, event.id, reg.check_in_code)["result"] == "already_checked_in"
    assert connection_use == {"checkouts": 2, "sessions": 0}
    assert rows() == [(reg.id, DAY_ONE, staff.id, "api")]


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("admin", "missing", 404),
        ("owner", "missing", 404),
        ("other_organizer", "draft", 404),
        ("staff", "draft", 404),
        ("owner", "draft", 200),
    ],
)
def test_unknown_events_are_not_found(
    client, bearer, actors, make_event, owner, role, target, expected
):
    draft = make_event(owner=owner, status=EventStatus.DRAFT, starts_at=wib(2030, 1, 15, 8))
    event_id = draft.id if target == "draft" else draft.id + 1000
    response = client.post(
        "/api/v1/checkins", json={"code": "x", "event_id": event_id}, headers=bearer(actors[role])
    )
    assert response.status_code == expected


DELETE_TABLE = [
    ("admin", 204),
    ("owner", 204),
    ("assigned", 403),
    ("staff", 403),
    ("other_organizer", 404),
    ("participant", 403),
    ("anonymous", 401),
]


@pytest.mark.parametrize(("role", "expected"), DELETE_TABLE)
def test_who_may_undo(
    client, app, bearer, event, door_staff, register, person, rows, role, expected
):
    actors = door_staff(event)
    reg = register(event, person()).registration
    done = scan(client, bearer(actors["assigned"]), event.id, reg.check_in_code)

    response = client.delete(f"/api/v1/checkins/{done['checkin_id']}", headers=bearer(actors[role]))

    assert response.status_code == expected
    assert len(rows()) == (0 if expected == 204 else 1)
    if expected == 204:
        assert response.get_data() == b""
        with app.app_context():
            undo = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "checkin.undo"))
        assert undo.user_id == actors[role].id
        assert undo.details["registration_id"] == reg.id
        assert undo.details["scanned_by_id"] == actors["assigned"].id


def test_undo_of_an_unknown_checkin_is_not_found(client, bearer, owner):
    response = client.delete("/api/v1/checkins/12345", headers=bearer(owner))
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


ATTENDANCE_TABLE = [
    ("admin", 200),
    ("owner", 200),
    ("assigned", 200),
    ("staff", 403),
    ("other_organizer", 403),
    ("participant", 403),
    ("anonymous", 401),
]


@pytest.mark.parametrize(("role", "expected"), ATTENDANCE_TABLE)
def test_who_may_read_attendance(client, bearer, event, door_staff, role, expected):
    actors = door_staff(event)
    response = client.get(f"/api/v1/events/{event.id}/attendance", headers=bearer(actors[role]))
    assert response.status_code == expected
    missing = client.get(
        f"/api/v1/events/{event.id + 1000}/attendance", headers=bearer(actors["admin"])
    )
    assert missing.status_code == 404


# --- outcomes ----------------------------------------------------------------------------


def test_ok_then_already_checked_in(client, bearer, event, door_staff, register, person, rows):
    actors = door_staff(event)
    reg = register(event, person(name="Ni Luh Putu Ayu", position="Analis")).registration

    first = scan(client, bearer(actors["assigned"]), event.id, reg.check_in_code)
    second = scan(client, bearer(actors["owner"]), event.id, reg.check_in_code)

    assert first == {
        "result": "ok",
        "message": "Berhasil hadir",
        "registration": {
            "id": reg.id,
            "event_id": event.id,
            "name": "Ni Luh Putu Ayu",
            "position": "Analis",
            "unit_id": None,
            "institution": "Pemerintah Kota Bandung",
            "affiliation": "Pemerintah Kota Bandung",
            "role": "participant",
            "status": "confirmed",
        },
        "checkin_id": first["checkin_id"],
        "checked_in_at": "2030-01-15T09:00:00+07:00",
        "day": DAY_ONE,
        "checked_in_by": {"id": actors["assigned"].id, "name": actors["assigned"].name},
        "other_event": None,
    }
    assert second["result"] == "already_checked_in"
    assert second["message"] == "Sudah tercatat hadir hari ini"
    assert second["checkin_id"] == first["checkin_id"]
    assert second["checked_in_by"] == first["checked_in_by"]  # who scanned first, not the owner
    assert second["checked_in_at"] == first["checked_in_at"]
    assert second["registration"]["id"] == reg.id
    assert rows() == [(reg.id, DAY_ONE, actors["assigned"].id, "api")]


def test_scanner_whitespace_around_a_code_is_ignored(
    client, bearer, event, owner, register, person, rows
):
    reg = register(event, person()).registration
    body = scan(client, bearer(owner), event.id, f"  {reg.check_in_code}\r\n")
    assert body["result"] == "ok"
    assert len(rows()) == 1


def test_each_day_is_counted_once(app, client, bearer, event, owner, register, person, rows):
    reg = register(event, person()).registration
    assert scan(client, bearer(owner), event.id, reg.check_in_code)["day"] == DAY_ONE
    app.config["FIXED_NOW"] = FIXED_NOW + timedelta(days=1)
    body = scan(client, bearer(owner), event.id, reg.check_in_code)
    assert (body["result"], body["day"]) == ("ok", DAY_TWO)
    assert [day for _, day, _, _ in rows()] == [DAY_ONE, DAY_TWO]


def test_code_of_another_event(
    client, bearer, door_staff, event, make_event, owner, register, person, rows
):
    actors = door_staff(event)
    other = make_event(owner=owner, title="Rapat Koordinasi SINOVIK", starts_at=wib(2030, 1, 15, 8))
    hidden = make_event(
        owner=owner, status=EventStatus.DRAFT, title="Draf rahasia", starts_at=wib(2030, 1, 15, 8)
    )
    theirs = register(other, person()).registration
    secret = register(hidden, person()).registration

    by_owner = scan(client, bearer(owner), event.id, theirs.check_in_code)
    by_staff = scan(client, bearer(actors["assigned"]), event.id, secret.check_in_code)

    assert by_owner["result"] == "wrong_event"
    assert by_owner["other_event"] == {"id": other.id, "title": "Rapat Koordinasi SINOVIK"}
    assert by_owner["registration"] is None  # not this event's: nothing about the person
    assert by_staff["result"] == "wrong_event"
    assert by_staff["other_event"] is None  # a draft the staff member may not see
    assert rows() == []


@pytest.mark.parametrize(
    ("setup", "result"),
    [("cancelled", "cancelled"), ("waitlisted", "not_confirmed"), ("not_today", "not_event_day")],
)
def test_registrations_that_cannot_check_in(
    client, app, bearer, make_event, owner, register, person, rows, setup, result
):
    start = wib(2030, 1, 20, 8) if setup == "not_today" else wib(2030, 1, 15, 8)
    event = make_event(owner=owner, capacity=1, starts_at=start)
    reg = register(event, person()).registration
    if setup == "waitlisted":
        reg = register(event, person()).registration
    if setup == "cancelled":
        client.post(f"/api/v1/registrations/{reg.id}/cancel", headers=bearer(owner))

    body = scan(client, bearer(owner), event.id, reg.check_in_code)

    assert body["result"] == result
    assert body["message"]
    assert body["registration"]["id"] == reg.id
    assert (body["checkin_id"], body["checked_in_at"], body["checked_in_by"]) == (None,) * 3
    assert rows() == []


JUNK = [
    "",
    "   ",
    "A" * 5000,
    "x" * 43,  # the shape of a code, but nobody's
    "abc\x00defghijklmnopqrstu",
    "\x1b[31mABCDEFGHIJKLMNOPQRST",
    "\ud800ABCDEFGHIJKLMNOPQRST",
    "https://evil.example.com/r/3Dfx9-aaaaaaaaaaaaaaaaaaaaaaaaa",
    "WIFI:S:Pangripta;T:WPA;P:rahasia;;",
    "' OR 1=1 --",
]


@pytest.mark.parametrize("code", JUNK)
def test_junk_is_not_found_and_records_nothing(
    client, app, bearer, event, owner, register, person, rows, code
):
    register(event, person())
    body = scan(client, bearer(owner), event.id, code, nonce="junk-nonce-123")
    assert body["result"] == "not_found"
    assert body["message"] == "Kode tidak dikenal"
    assert body["registration"] is None
    assert rows() == []


DROP = object()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"code": DROP}, {"code"}),
        ({"code": 12345}, {"code"}),
        ({"code": ["a"]}, {"code"}),
        ({"code": None}, {"code"}),
        ({"code": "A" * 10_001}, {"code"}),
        ({"event_id": DROP}, {"event_id"}),
        ({"event_id": "1"}, {"event_id"}),
        ({"event_id": 1.5}, {"event_id"}),
        ({"event_id": True}, {"event_id"}),
        ({"event_id": None}, {"event_id"}),
        ({"event_id": 2**40}, {"event_id"}),
        ({"nonce": "kurang"}, {"nonce"}),
        ({"nonce": 12345678}, {"nonce"}),
        ({"method": "camera"}, {"method"}),
        ({"code": DROP, "event_id": DROP}, {"code", "event_id"}),
    ],
)
def test_bad_input_is_422(client, bearer, event, owner, rows, payload, fields):
    body = {"code": "abc", "event_id": event.id, **payload}
    body = {key: value for key, value in body.items() if value is not DROP}
    response = client.post("/api/v1/checkins", json=body, headers=bearer(owner))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == "invalid"
    assert set(response.get_json()["fields"]) == fields
    assert rows() == []


def test_body_must_be_json(client, bearer, event, owner):
    response = client.post("/api/v1/checkins", data="code=abc", headers=bearer(owner))
    assert response.status_code == 400


def test_a_retried_request_with_its_nonce_counts_once(
    client, bearer, event, owner, register, person, rows
):
    reg = register(event, person()).registration
    nonce = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    first = scan(client, bearer(owner), event.id, reg.check_in_code, nonce=nonce)
    retry = scan(client, bearer(owner), event.id, reg.check_in_code, nonce=nonce)
    assert first["result"] == retry["result"] == "ok"
    assert retry["checkin_id"] == first["checkin_id"]
    assert len(rows()) == 1


def test_undo_lets_the_person_check_in_again(client, bearer, event, owner, register, person, rows):
    reg = register(event, person()).registration
    done = scan(client, bearer(owner), event.id, reg.check_in_code)
    assert (
        client.delete(f"/api/v1/checkins/{done['checkin_id']}", headers=bearer(owner)).status_code
        == 204
    )
    assert rows() == []
    assert (
        client.delete(f"/api/v1/checkins/{done['checkin_id']}", headers=bearer(owner)).status_code
        == 404
    )
    assert scan(client, bearer(owner), event.id, reg.check_in_code)["result"] == "ok"


# --- attendance ---------------------------------------------------------------------------


def test_attendance_per_day_and_unit(
    app, client, bearer, make_event, owner, make_unit, register, person
):
    event = make_event(
        owner=owner,
        starts_at=wib(2030, 1, 15, 8),
        ends_at=wib(2030, 1, 17, 16),
        days=[wib(2030, 1, 15).date(), wib(2030, 1, 17).date()],
    )
    bappeda = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    kominfo = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    b1, b2 = (register(event, person(unit=bappeda)).registration for _ in range(2))
    k1 = register(event, person(unit=kominfo)).registration
    guest = register(event, person()).registration
    cancelled = register(event, person(unit=kominfo)).registration
    client.post(f"/api/v1/registrations/{cancelled.id}/cancel", headers=bearer(owner))
    for reg in (b1, b2, guest):
        scan(client, bearer(owner), event.id, reg.check_in_code)
    app.config["FIXED_NOW"] = FIXED_NOW + timedelta(days=2)
    for reg in (b1, k1):
        scan(client, bearer(owner), event.id, reg.check_in_code)

    body = client.get(f"/api/v1/events/{event.id}/attendance", headers=bearer(owner)).get_json()

    # The keys the endpoint has always answered, unchanged (arrivals and the dashboard's
    # per-unit numbers came later: see the next test).
    assert legacy_attendance(body) == {
        "event_id": event.id,
        "confirmed": 4,
        "checked_in": 4,
        "days": [{"date": "2030-01-15", "checked_in": 3}, {"date": "2030-01-17", "checked_in": 2}],
        "units": [
            {
                "unit_id": bappeda.id,
                "unit": "Bappeda",
                "unit_name": bappeda.name,
                "confirmed": 2,
                "days": [
                    {"date": "2030-01-15", "checked_in": 2},
                    {"date": "2030-01-17", "checked_in": 1},
                ],
            },
            {
                "unit_id": kominfo.id,
                "unit": "Diskominfo",
                "unit_name": kominfo.name,
                "confirmed": 1,
                "days": [
                    {"date": "2030-01-15", "checked_in": 0},
                    {"date": "2030-01-17", "checked_in": 1},
                ],
            },
            {
                "unit_id": None,
                "unit": "Instansi lain",
                "unit_name": "Instansi lain",
                "confirmed": 1,
                "days": [
                    {"date": "2030-01-15", "checked_in": 1},
                    {"date": "2030-01-17", "checked_in": 0},
                ],
            },
        ],
    }
    event_body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert (event_body["confirmed"], event_body["checked_in"]) == (4, 4)
    assert body["counts"] == {"confirmed": 4, "waitlisted": 0, "cancelled": 1}


def legacy_attendance(body: dict) -> dict:
    """The attendance answer as it was before arrivals and per-unit rates were added."""
    return {
        "event_id": body["event_id"],
        "confirmed": body["confirmed"],
        "checked_in": body["checked_in"],
        "days": [{k: d[k] for k in ("date", "checked_in")} for d in body["days"]],
        "units": [
            {k: u[k] for k in ("unit_id", "unit", "unit_name", "confirmed", "days")}
            for u in body["units"]
        ],
    }


def test_attendance_has_the_dashboards_arrivals_and_unit_rates(
    app, client, bearer, make_event, owner, make_unit, register, person
):
    event = make_event(
        owner=owner, starts_at=wib(2030, 1, 15, 8), ends_at=wib(2030, 1, 16, 16), unit_quota=3
    )
    bappeda = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    regs = [register(event, person(unit=bappeda)).registration for _ in range(3)]
    guest = register(event, person()).registration
    # Day one 09.00, 09.02 and 09.13 WIB; day two 08.00 WIB.
    for reg, later in ((regs[0], 0), (regs[1], 2), (guest, 13), (regs[0], 23 * 60)):
        app.config["FIXED_NOW"] = FIXED_NOW + timedelta(minutes=later)
        assert scan(client, bearer(owner), event.id, reg.check_in_code)["result"] == "ok"

    body = client.get(f"/api/v1/events/{event.id}/attendance", headers=bearer(owner)).get_json()

    assert [d["arrivals"] for d in body["days"]] == [
        [
            {"at": "2030-01-15T09:00:00+07:00", "checked_in": 2},
            {"at": "2030-01-15T09:05:00+07:00", "checked_in": 0},
            {"at": "2030-01-15T09:10:00+07:00", "checked_in": 1},
        ],
        [{"at": "2030-01-16T08:00:00+07:00", "checked_in": 1}],
    ]
    for day in body["days"]:
        assert sum(a["checked_in"] for a in day["arrivals"]) == day["checked_in"]
    per_unit = [
        {k: u[k] for k in ("unit_id", "confirmed", "registered", "attended", "quota", "rate")}
        for u in body["units"]
    ]
    assert per_unit == [
        {
            "unit_id": bappeda.id,
            "confirmed": 3,
            "registered": 3,
            "attended": 2,
            "quota": 3,
            "rate": 0.6667,
        },
        {
            "unit_id": None,
            "confirmed": 1,
            "registered": 1,
            "attended": 1,
            "quota": None,
            "rate": 1.0,
        },
    ]
    assert [u["days"] for u in body["units"]] == [
        [{"date": DAY_ONE, "checked_in": 2}, {"date": DAY_TWO, "checked_in": 1}],
        [{"date": DAY_ONE, "checked_in": 1}, {"date": DAY_TWO, "checked_in": 0}],
    ]
    assert (body["confirmed"], body["checked_in"]) == (4, 3)
    assert body["counts"] == {"confirmed": 4, "waitlisted": 0, "cancelled": 0}


def test_attendance_of_an_empty_event_lists_every_day(client, bearer, event, owner):
    body = client.get(f"/api/v1/events/{event.id}/attendance", headers=bearer(owner)).get_json()
    assert body["days"] == [
        {"date": DAY_ONE, "checked_in": 0, "arrivals": []},
        {"date": DAY_TWO, "checked_in": 0, "arrivals": []},
    ]
    assert (body["confirmed"], body["checked_in"], body["units"]) == (0, 0, [])


# --- the unknown-code limit ------------------------------------------------------------------


class TestUnknownCodeLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "CHECKIN_NOT_FOUND_LIMIT": "3 per minute"}

    def test_only_unknown_codes_are_throttled(
        self, client, bearer, token_user, event, owner, door_staff, register, person, rows
    ):
        actors = door_staff(event)
        staff = bearer(actors["assigned"])
        regs = [register(event, person()).registration for _ in range(2)]
        # Valid scans (ok and already) spend nothing of the unknown-code budget.
        for _ in range(10):
            assert scan(client, staff, event.id, regs[0].check_in_code)["result"] in (
                "ok",
                "already_checked_in",
            )
        for n in range(3):
            assert scan(client, staff, event.id, f"tebakan-{n:020d}")["result"] == "not_found"
        refused = client.post(
            "/api/v1/checkins",
            json={"code": "tebakan-lagi-0000000000", "event_id": event.id},
            headers=staff,
        )
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # A real ticket still goes through at once; another user has their own budget.
        assert scan(client, staff, event.id, regs[1].check_in_code)["result"] == "ok"
        assert scan(client, bearer(owner), event.id, "tebakan-pemilik-000000")["result"] == (
            "not_found"
        )
        assert len(rows()) == 2

    def test_refused_callers_spend_nothing(self, client, bearer, event, actors):
        for _ in range(5):
            response = client.post(
                "/api/v1/checkins",
                json={"code": "x", "event_id": event.id},
                headers=bearer(actors["participant"]),
            )
            assert response.status_code == 403


class TestDoorScansAreNeverRateLimited:
    @pytest.fixture
    def app_config(self):
        # An application-wide default limit far below any door's pace.
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "2 per minute"}

    def test_scans_pass_a_default_limit_that_holds_other_endpoints(
        self, client, bearer, event, owner, register, person, rows
    ):
        headers = bearer(owner)
        regs = [register(event, person()).registration for _ in range(2)]  # capacity 2
        for reg in regs:
            assert scan(client, headers, event.id, reg.check_in_code)["result"] == "ok"
        for _ in range(3):
            assert scan(client, headers, event.id, regs[0].check_in_code)["result"] == (
                "already_checked_in"
            )
        assert len(rows()) == 2
        # The default limit is in force elsewhere: the third read of the event list is 429.
        statuses = [client.get("/api/v1/events", headers=headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_openapi_describes_what_the_checkin_endpoints_answer(
    client, bearer, event, owner, register, person
):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    reg = register(event, person()).registration
    answer = scan(client, bearer(owner), event.id, reg.check_in_code)
    assert set(schemas["ScanResult"]["properties"]) == set(answer)
    assert set(schemas["ScanResult"]["required"]) == set(answer)
    assert set(schemas["DoorRegistration"]["properties"]) == set(answer["registration"])
    assert set(schemas["ScanResult"]["properties"]["result"]["enum"]) == {
        "ok",
        "already_checked_in",
        "wrong_event",
        "cancelled",
        "not_confirmed",
        "not_event_day",
        "not_found",
    }
    report = client.get(f"/api/v1/events/{event.id}/attendance", headers=bearer(owner)).get_json()
    attendance = schemas["Attendance"]
    assert set(attendance["properties"]) == set(attendance["required"]) == set(report)
    unit_row = attendance["properties"]["units"]["items"]
    assert set(unit_row["properties"]) == set(unit_row["required"]) == set(report["units"][0])
    day = attendance["properties"]["days"]["items"]
    assert set(day["properties"]) == set(day["required"]) == set(report["days"][0])
    arrival = day["properties"]["arrivals"]["items"]
    assert set(arrival["properties"]) == set(report["days"][0]["arrivals"][0])
    assert set(attendance["properties"]["counts"]["properties"]) == set(report["counts"])
