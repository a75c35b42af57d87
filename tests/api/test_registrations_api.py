"""Registrations through the API: permissions, register, conflicts, validation, list,
detail, cancel with promotion, the organizer rate limit and the event's counts."""

import re
import secrets
import tempfile
import time
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import AuditLog, Base, Event, EventStatus, OutgoingMail, Registration

VALID_NIP = "19680411 199303 1 009"


@pytest.fixture
def owner(actors):
    return actors["owner"]


@pytest.fixture
def auth(bearer, owner):
    return bearer(owner)


@pytest.fixture
def event(make_event, owner):
    return make_event(owner=owner, capacity=50)


@pytest.fixture
def stored(app):
    """The stored registrations of an event, oldest first (detached)."""

    def load(event_id: int) -> list[Registration]:
        with app.app_context():
            rows = list(
                db.session.scalars(
                    sa.select(Registration)
                    .where(Registration.event_id == event_id)
                    .order_by(Registration.id)
                )
            )
            db.session.expunge_all()
        return rows

    return load


def body_for(n: int = 1, **changes) -> dict:
    body = {
        "name": f"Peserta {n}",
        "email": f"peserta{n}@muaraenimkab.go.id",
        "employment_status": "non_asn",
        "institution": "Pemerintah Kota Bandung",
    }
    body.update(changes)
    return body


def post(client, auth, event_id, body, status=201):
    response = client.post(f"/api/v1/events/{event_id}/registrations", json=body, headers=auth)
    assert response.status_code == status, response.get_json()
    return response.get_json()


# --- permissions -------------------------------------------------------------------

ROLES = ("admin", "owner", "other_organizer", "staff", "participant", "anonymous")
WRONG_ROLE = {"other_organizer": 404, "staff": 403, "participant": 403, "anonymous": 401}
TABLE = [
    (method, path, role, ok if role in ("admin", "owner") else WRONG_ROLE[role])
    for method, path, ok in (
        ("POST", "/api/v1/events/{event}/registrations", 201),
        ("GET", "/api/v1/events/{event}/registrations", 200),
        ("GET", "/api/v1/registrations/{reg}", 200),
        ("POST", "/api/v1/registrations/{reg}/cancel", 200),
    )
    for role in ROLES
] + [
    ("POST", "/api/v1/events/{missing}/registrations", "owner", 404),
    ("GET", "/api/v1/events/{missing}/registrations", "admin", 404),
    ("GET", "/api/v1/registrations/{missing}", "admin", 404),
    ("POST", "/api/v1/registrations/{missing}/cancel", "admin", 404),
]


@pytest.mark.parametrize(("method", "path", "role", "expected"), TABLE)
def test_permission_table(
    client, actors, bearer, event, register, person, stored, method, path, role, expected
):
    reg = register(event, person()).registration
    url = path.format(event=event.id, reg=reg.id, missing=event.id + reg.id + 1000)
    body = body_for(2) if method == "POST" and url.endswith("/registrations") else None

    response = client.open(url, method=method, json=body, headers=bearer(actors[role]))

    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected >= 400:
        assert (
            response.get_json()["error"]
            == {
                401: "unauthorized",
                403: "forbidden",
                404: "not_found",
            }[expected]
        )
    statuses = [str(r.status) for r in stored(event.id)]
    if method == "POST" and url.endswith("/registrations"):
        assert len(statuses) == (2 if expected == 201 else 1)
    if url.endswith("/cancel"):
        assert statuses == (["cancelled"] if expected == 200 else ["confirmed"])


def test_a_bad_body_is_422_whatever_the_event_and_tells_nothing_about_it(
    client, actors, bearer, event, stored
):
    """The body is checked before the event is read (with its lock): someone else's event
    and a missing one answer alike, so nothing is learned about either."""
    headers = bearer(actors["other_organizer"])
    for event_id in (event.id, event.id + 1000):
        answer = post(client, headers, event_id, {"name": "", "email": "x"}, status=422)
        assert set(answer["fields"]) >= {"name", "email"}
    assert post(client, headers, event.id, body_for(3), status=404)["error"] == "not_found"
    assert stored(event.id) == []


# --- register ------------------------------------------------------------------------


def test_register_answers_the_registration(client, app, auth, owner, event, make_unit, stored):
    unit = make_unit(name="Badan Perencanaan Pembangunan Daerah", short_name="Bappeda")
    response = client.post(
        f"/api/v1/events/{event.id}/registrations",
        headers=auth,
        json={
            "name": "Ir. H. Abdul Najib, MM",
            "email": "Abdul.Najib@MuaraEnimKab.go.id",
            "phone": "0812-3456-7890",
            "nip": VALID_NIP,
            "employment_status": "PNS",
            "position": "Kepala Bappeda",
            "unit_id": unit.id,
            "role": "participant",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    [reg] = stored(event.id)
    assert response.headers["Location"].endswith(f"/api/v1/registrations/{reg.id}")
    assert body == {
        "id": reg.id,
        "event_id": event.id,
        "name": "Ir. H. Abdul Najib, MM",
        "email": "abdul.najib@muaraenimkab.go.id",
        "phone": "+6281234567890",
        "nip": "196804111993031009",
        "employment_status": "pns",
        "position": "Kepala Bappeda",
        "unit_id": unit.id,
        "institution": None,
        "role": "participant",
        "status": "confirmed",
        "waitlist_position": None,
        "check_in_code": reg.check_in_code,
        "manage_url": f"http://workshop.test/r/{reg.manage_token}",
        "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("+07:00")
    assert reg.check_in_code != reg.manage_token
    # The manage link is the participant's real page.
    page = client.get(body["manage_url"].removeprefix("http://workshop.test"))
    assert page.status_code == 200
    assert "Ir. H. Abdul Najib, MM" in page.get_data(as_text=True)
    with app.app_context():
        actions = db.session.execute(
            sa.select(AuditLog.action, AuditLog.user_id).where(AuditLog.object_id == reg.id)
        ).all()
        mails = db.session.scalars(sa.select(OutgoingMail.to)).all()
    assert ("registration.create", owner.id) in actions
    assert mails == ["abdul.najib@muaraenimkab.go.id"]


@pytest.mark.parametrize(
    "name",
    ["Ni Luh Putu Ayu", "Sukarno", "Ir. H. Abdul Najib, MM", "Nguyễn Thị Minh Khai", "O'Neil"],
)
def test_names_are_kept_exactly(client, auth, event, name):
    body = post(client, auth, event.id, body_for(name=name))
    assert body["name"] == name
    assert (
        client.get(f"/api/v1/registrations/{body['id']}", headers=auth).get_json()["name"] == name
    )


def test_full_event_waitlists_in_order(client, auth, make_event, owner):
    event = make_event(owner=owner, capacity=1)
    first = post(client, auth, event.id, body_for(1))
    second = post(client, auth, event.id, body_for(2))
    third = post(client, auth, event.id, body_for(3))
    assert (first["status"], first["waitlist_position"]) == ("confirmed", None)
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    assert (third["status"], third["waitlist_position"]) == ("waitlisted", 2)


def test_speakers_and_committee_skip_the_window_and_take_no_seat(client, auth, make_event, owner):
    closed = make_event(
        owner=owner,
        capacity=1,
        waitlist=False,
        registration_closes_at=FIXED_NOW - timedelta(days=1),
        registration_opens_at=FIXED_NOW - timedelta(days=5),
    )
    post(client, auth, closed.id, body_for(1), status=409)
    speaker = post(client, auth, closed.id, body_for(2, name="Elke Rapp", role="speaker"))
    committee = post(client, auth, closed.id, body_for(3, role="committee"))
    assert (speaker["status"], speaker["role"]) == ("confirmed", "speaker")
    assert (committee["status"], committee["role"]) == ("confirmed", "committee")


def conflict_event(make_event, owner, make_unit, kind):
    opens = {"registration_opens_at": FIXED_NOW - timedelta(days=5)}
    if kind == "registration_closed":
        return make_event(owner=owner, **opens, registration_closes_at=FIXED_NOW)
    if kind == "registration_not_open":
        return make_event(owner=owner, registration_opens_at=FIXED_NOW + timedelta(hours=1))
    if kind == "draft":
        return make_event(owner=owner, status=EventStatus.DRAFT)
    if kind == "cancelled":
        return make_event(owner=owner, status=EventStatus.CANCELLED)
    return make_event(owner=owner, capacity=5, unit_quota=1, waitlist=False)


@pytest.mark.parametrize(
    ("kind", "first", "second", "error"),
    [
        ("duplicate email", {}, {"name": "Nama Lain"}, "duplicate_registration"),
        (
            "duplicate NIP",
            {"employment_status": "pns", "nip": VALID_NIP},
            {"email": "lain@example.com", "employment_status": "pns", "nip": "196804111993031009"},
            "duplicate_registration",
        ),
        ("event_full", {"email": "a@example.com"}, {"email": "b@example.com"}, "event_full"),
        (
            "unit_quota_full",
            {"unit": True},
            {"unit": True, "email": "c@example.com"},
            "unit_quota_full",
        ),
        ("registration_closed", None, {}, "registration_closed"),
        ("registration_not_open", None, {}, "registration_not_open"),
        ("draft", None, {}, "registration_closed"),
        ("cancelled", None, {"role": "speaker"}, "registration_closed"),
    ],
)
def test_conflicts_answer_409_with_a_code(
    client, auth, make_event, owner, make_unit, stored, kind, first, second, error
):
    unit = make_unit()
    if kind == "event_full":
        event = make_event(owner=owner, capacity=1, waitlist=False)
    else:
        event = conflict_event(make_event, owner, make_unit, kind)

    def body(changes):
        changes = dict(changes)
        if changes.pop("unit", False):
            changes |= {"unit_id": unit.id, "institution": None}
        return body_for(1, **changes)

    existing = post(client, auth, event.id, body(first)) if first is not None else None
    answer = post(client, auth, event.id, body(second), status=409)

    assert answer["error"] == error
    assert answer["message"]
    assert len(stored(event.id)) == (1 if existing else 0)
    if error == "duplicate_registration":
        assert answer["existing_id"] == existing["id"]


# --- invalid input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"employment_status": "pns", "nip": "19680411199303100"}, {"nip"}),  # 17 digits
        ({"employment_status": "pns", "nip": "1968041119930310AB"}, {"nip"}),
        ({"employment_status": "pns", "nip": "196813411993031009"}, {"nip"}),  # month 13
        ({"email": "tanpa-at.example.com"}, {"email"}),
        ({"phone": "0812-ABCD-7890"}, {"phone"}),
        ({"name": ""}, {"name"}),
        ({"name": "   "}, {"name"}),
        ({"name": "A" * 10_000}, {"name"}),
        ({"unit_id": 999_999, "institution": None}, {"unit_id"}),
        ({"unit_id": "UNIT", "institution": None}, {"unit_id"}),
        ({"unit_id": 1}, {"institution"}),  # both a unit and an institution
        ({"institution": None}, {"unit_id"}),  # neither
        ({"employment_status": "honorer"}, {"employment_status"}),
        ({"role": "vip"}, {"role"}),
        ({"name": 5, "nip": 196804111993031009}, {"name", "nip"}),
        ({"name": "Nama\x00"}, {"name"}),
        ({"status": "confirmed", "check_in_code": "x"}, {"status", "check_in_code"}),
        ({"favourite_colour": "hijau"}, {"favourite_colour"}),
    ],
)
def test_invalid_fields_answer_422_and_store_nothing(
    client, app, auth, event, make_unit, stored, changes, fields
):
    unit = make_unit()
    if changes.get("unit_id") == 1:
        changes = {**changes, "unit_id": unit.id}
    answer = post(client, auth, event.id, body_for(**changes), status=422)
    assert answer["error"] == "invalid"
    assert set(answer["fields"]) == fields
    assert all(answer["fields"][f] and all(answer["fields"][f]) for f in fields)
    assert stored(event.id) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail)) == 0


def test_missing_fields_are_named(client, auth, event):
    answer = post(client, auth, event.id, {}, status=422)
    assert {"name", "email", "employment_status", "unit_id"} <= set(answer["fields"])


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("name=Sukarno", "application/x-www-form-urlencoded"),
        ("[1, 2]", "application/json"),
        ("{", "application/json"),
    ],
)
def test_body_must_be_a_json_object(client, auth, event, stored, data, content_type):
    response = client.post(
        f"/api/v1/events/{event.id}/registrations",
        data=data,
        content_type=content_type,
        headers=auth,
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert stored(event.id) == []


# --- list, detail --------------------------------------------------------------------


def test_list_filters_by_status_with_waitlist_positions(
    client, auth, make_event, owner, register, person
):
    event = make_event(owner=owner, capacity=2)
    regs = [register(event, person()).registration for _ in range(5)]
    with_other = make_event(owner=owner)
    register(with_other, person())

    everything = client.get(f"/api/v1/events/{event.id}/registrations", headers=auth).get_json()
    assert everything["count"] == 5
    assert [r["id"] for r in everything["items"]] == [r.id for r in regs]
    assert [r["status"] for r in everything["items"]] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert [r["waitlist_position"] for r in everything["items"]] == [None, None, 1, 2, 3]

    waiting = client.get(
        f"/api/v1/events/{event.id}/registrations?status=waitlisted", headers=auth
    ).get_json()
    assert [r["id"] for r in waiting["items"]] == [r.id for r in regs[2:]]
    cancelled = client.get(
        f"/api/v1/events/{event.id}/registrations?status=cancelled", headers=auth
    ).get_json()
    assert cancelled == {"items": [], "count": 0}


@pytest.mark.parametrize("status", ["hadir", "", "CONFIRMED"])
def test_list_refuses_an_unknown_status(client, auth, event, status):
    response = client.get(
        f"/api/v1/events/{event.id}/registrations", query_string={"status": status}, headers=auth
    )
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"status"}


def test_detail_shows_the_waitlist_position(client, auth, make_event, owner, register, person):
    event = make_event(owner=owner, capacity=1)
    register(event, person())
    waiting = register(event, person()).registration
    body = client.get(f"/api/v1/registrations/{waiting.id}", headers=auth).get_json()
    assert (body["id"], body["status"], body["waitlist_position"]) == (waiting.id, "waitlisted", 1)
    assert body["manage_url"] == f"http://workshop.test/r/{waiting.manage_token}"


# --- cancel --------------------------------------------------------------------------


def test_cancel_promotes_the_first_in_line(
    client, auth, make_event, owner, register, person, stored
):
    event = make_event(owner=owner, capacity=1)
    seated = register(event, person()).registration
    next_in_line = register(event, person()).registration
    after = register(event, person()).registration

    response = client.post(f"/api/v1/registrations/{seated.id}/cancel", headers=auth)

    assert response.status_code == 200
    assert response.get_json() == {
        "id": seated.id,
        "status": "cancelled",
        "promoted": [next_in_line.id],
    }
    statuses = {r.id: str(r.status) for r in stored(event.id)}
    assert statuses == {
        seated.id: "cancelled",
        next_in_line.id: "confirmed",
        after.id: "waitlisted",
    }
    again = client.post(f"/api/v1/registrations/{seated.id}/cancel", json={}, headers=auth)
    assert again.get_json() == {"id": seated.id, "status": "cancelled", "promoted": []}
    detail = client.get(f"/api/v1/registrations/{after.id}", headers=auth).get_json()
    assert detail["waitlist_position"] == 1


def test_cancel_takes_no_fields(client, auth, event, register, person, stored):
    reg = register(event, person()).registration
    response = client.post(
        f"/api/v1/registrations/{reg.id}/cancel", json={"reason": "x"}, headers=auth
    )
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"reason"}
    assert [str(r.status) for r in stored(event.id)] == ["confirmed"]


# --- the event's counts ----------------------------------------------------------------


def test_event_json_counts_registrations(client, auth, make_event, owner, register, person):
    event = make_event(owner=owner, capacity=2)
    regs = [register(event, person()).registration for _ in range(4)]
    client.post(f"/api/v1/registrations/{regs[3].id}/cancel", headers=auth)
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert (body["confirmed"], body["waitlisted"], body["checked_in"]) == (2, 1, 0)
    listed = client.get("/api/v1/events").get_json()["items"]
    assert [(e["id"], e["confirmed"], e["waitlisted"]) for e in listed] == [(event.id, 2, 1)]


def test_event_list_query_count_does_not_grow(app, client, make_event, owner, register, person):
    def queries_for_list() -> int:
        statements = []

        def count(*_args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get("/api/v1/events")
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements), response.get_json()["count"]

    first = make_event(owner=owner)
    register(first, person())
    one = queries_for_list()
    for _ in range(4):
        event = make_event(owner=owner, capacity=1)
        register(event, person())
        register(event, person())
    five = queries_for_list()
    assert (one[1], five[1]) == (1, 5)
    assert five[0] == one[0]


def _round_trips(trace: str) -> tuple[list[list[str]], list[str]]:
    """The statements of a libpq protocol trace, grouped by round trip (each ends when the
    server says it is ready for the next query), each as its first three words; and the
    statements prepared under a name (their first three words, in order)."""
    names, trips, trip, prepared = {}, [], [], []
    for line in re.split(r"\n(?=[FB]\t\d+\t)", trace):  # a query may span lines
        fields = line.split("\t", 3)
        if len(fields) < 4:
            continue
        sender, message, rest = fields[0], fields[2], fields[3]
        if sender == "F" and message == "Parse":
            name, text = re.match(r' "([^"]*)" "(.*)" \d', rest, re.DOTALL).groups()
            names[name] = " ".join(text.replace('"', "").split()[:3])
            if name:
                prepared.append(names[name])
        elif sender == "F" and message == "Bind":
            trip.append(names[re.match(r' "[^"]*" "([^"]*)"', rest).group(1)])
        elif sender == "F" and message == "Query":
            trip.append(
                " ".join(
                    re.match(r' "(.*)"', rest, re.DOTALL).group(1).replace('"', "").split()[:3]
                )
            )
        elif sender == "B" and message == "ReadyForQuery":
            trips.append(trip)
            trip = []
    return trips, prepared


class TestStatementsOfARegistration:
    @pytest.fixture
    def app_config(self):
        # A pooled connection that rested is tested first: not what is counted here.
        return {"DATABASE_PING_AFTER_IDLE": None, "MAIL_DELIVERY": "outbox"}

    @pytest.mark.parametrize("status", ["confirmed", "waitlisted"])
    def test_the_rows_are_written_together_and_name_the_new_registration(
        self, app, client, auth, make_event, owner, status
    ):
        """The hot path's statements, in order: the token, the locked event with the
        counts (and the waiting list's length and last place, for a place in line), then
        the new registration, its audit row and its mail. On PostgreSQL a round trip to
        the server is what a registration costs most, so they travel in three: the
        transaction's BEGIN with the token, the lock with the counts (a statement of
        their own, sent behind it), and the new rows (one statement) with the COMMIT;
        each statement is prepared on a connection's first registration, in the same
        round trips, and only then. On SQLite, in the process, the rows are three
        statements. Whichever way, the audit row and the mail name the new registration
        (the mail stays queued: no statements after). The same for a registration that
        goes to the waiting list of a full event."""
        event = make_event(owner=owner, capacity=1)
        if status == "waitlisted":
            assert post(client, auth, event.id, body_for(2))["status"] == "confirmed"
            assert post(client, auth, event.id, body_for(3))["status"] == "waitlisted"
        with app.app_context():
            engine = db.engine
            db.session.execute(sa.delete(OutgoingMail))
            db.session.execute(sa.delete(AuditLog))
            db.session.commit()
        if engine.dialect.name == "postgresql":
            engine.dispose()  # a new connection: its first registration prepares
            with tempfile.TemporaryFile() as trace:

                def traced(dbapi_connection, _record, _proxy):
                    dbapi_connection.pgconn.trace(trace.fileno())
                    dbapi_connection.pgconn.set_trace_flags(
                        psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
                    )

                def untraced(dbapi_connection, _record):
                    dbapi_connection.pgconn.untrace()

                sa.event.listen(engine, "checkout", traced)
                sa.event.listen(engine, "checkin", untraced)
                try:
                    created = post(client, auth, event.id, body_for(1))
                    again = post(client, auth, event.id, body_for(4))
                finally:
                    sa.event.remove(engine, "checkout", traced)
                    sa.event.remove(engine, "checkin", untraced)
                trace.seek(0)
                trips, prepared = _round_trips(trace.read().decode())
            one = [
                ["BEGIN", "SELECT user.id, user.role,"],
                ["SELECT event.id, event.owner_id,", "SELECT coalesce((SELECT registration.id"],
                ["WITH new_registration AS", "COMMIT"],
            ]
            assert trips == one + one
            assert prepared == [
                statement
                for trip in one
                for statement in trip
                if statement not in ("BEGIN", "COMMIT")
            ]
            assert again["status"] == "waitlisted"
            with app.app_context():
                db.session.execute(
                    sa.delete(OutgoingMail).where(OutgoingMail.registration_id == again["id"])
                )
                db.session.execute(sa.delete(AuditLog).where(AuditLog.object_id == again["id"]))
                db.session.execute(sa.delete(Registration).where(Registration.id == again["id"]))
                db.session.commit()
        else:
            statements = []

            def seen(statement):
                statements.append(" ".join(statement.replace('"', "").split()[:3]))

            def traced(dbapi_connection, _record, _proxy):
                dbapi_connection.set_trace_callback(seen)

            def untraced(dbapi_connection, _record):
                dbapi_connection.set_trace_callback(None)

            sa.event.listen(engine, "checkout", traced)
            sa.event.listen(engine, "checkin", untraced)
            try:
                created = post(client, auth, event.id, body_for(1))
            finally:
                sa.event.remove(engine, "checkout", traced)
                sa.event.remove(engine, "checkin", untraced)
            assert statements == [
                "BEGIN",
                "SELECT user.id, user.role,",
                "COMMIT",
                "BEGIN IMMEDIATE",
                "SELECT event.id, event.owner_id,",
                "INSERT INTO registration",
                "INSERT INTO audit_log",
                "INSERT INTO outgoing_mail",
                "COMMIT",
            ]
        assert (created["status"], created["waitlist_position"]) == (
            status,
            2 if status == "waitlisted" else None,
        )
        with app.app_context():
            entry = db.session.scalars(
                sa.select(AuditLog).where(AuditLog.object_type == "registration")
            ).one()
            message = db.session.scalars(sa.select(OutgoingMail)).one()
            assert (entry.action, entry.object_id, entry.user_id, entry.details) == (
                "registration.create",
                created["id"],
                owner.id,
                {"status": status},
            )
            assert entry.at is not None
            assert (message.registration_id, message.kind, message.to, message.status) == (
                created["id"],
                f"registration.{status}",
                "peserta1@muaraenimkab.go.id",
                "pending",
            )

    def test_statements_psycopg_deallocated_on_a_rollback_are_prepared_again(
        self, app, client, auth, make_event, owner
    ):
        """On PostgreSQL psycopg deallocates all of a connection's prepared statements when
        it rolls a transaction back (after a page that only read, for one), the
        registration's own included: the next registration on that connection prepares
        them again instead of failing. On SQLite nothing is prepared: it simply works."""
        event = make_event(owner=owner)
        with app.app_context():
            engine = db.engine
        engine.dispose()  # one connection for everything below
        assert post(client, auth, event.id, body_for(1))["status"] == "confirmed"

        def ours() -> int:
            return db.session.scalar(
                sa.text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'workshop%'")
            )

        with app.app_context():
            if engine.dialect.name == "postgresql":
                assert ours() == 4  # the token, the lock, the counts, the new rows
                for _ in range(6):  # psycopg prepares a statement run five times
                    db.session.execute(sa.text("SELECT :n + 1"), {"n": 1})
            db.session.rollback()
            if engine.dialect.name == "postgresql":
                assert ours() == 0
        assert post(client, auth, event.id, body_for(2))["status"] == "confirmed"
        with app.app_context():
            if engine.dialect.name == "postgresql":
                assert ours() == 4
            assert (
                db.session.scalar(
                    sa.select(sa.func.count(Registration.id)).where(
                        Registration.event_id == event.id
                    )
                )
                == 2
            )

    def test_a_connection_lost_mid_request_fails_that_request_only(
        self, app, client, auth, make_event, owner, caplog
    ):
        """The database connection is gone when a registration starts (PostgreSQL: the
        server ended its backend; SQLite: the connection was closed): that request is
        answered 500 in JSON and stores nothing; the pool replaces the connection and
        the next registration works."""
        event = make_event(owner=owner)
        with app.app_context():
            engine = db.engine
        engine.dispose()  # one connection for everything below
        assert post(client, auth, event.id, body_for(1))["status"] == "confirmed"
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
        if engine.dialect.name == "sqlite":
            driver.close()  # behind the pool's back
        else:
            pid = driver.info.backend_pid
            with psycopg.connect(
                engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                autocommit=True,
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
                for _ in range(100):  # the backend is gone once pg_stat_activity says so
                    if not other.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)
                    ).fetchone():
                        break
                    time.sleep(0.05)
        failed = post(client, auth, event.id, body_for(2), status=500)
        assert failed["error"] == "server_error"
        assert post(client, auth, event.id, body_for(3))["status"] == "confirmed"
        with app.app_context():
            emails = db.session.scalars(
                sa.select(Registration.email)
                .where(Registration.event_id == event.id)
                .order_by(Registration.id)
            ).all()
        assert emails == ["peserta1@muaraenimkab.go.id", "peserta3@muaraenimkab.go.id"]


class TestOneConnectionPerRequest:
    """A registration's token and placement run on a connection of the request's own,
    without the Session; whatever the request then does with the ORM (promoting someone
    who waited, delivering the mails) runs on that same connection and in its
    transaction: one connection per request, and the Core rows and the ORM's changes
    commit together or not at all."""

    @pytest.fixture
    def app_config(self):
        return {"DATABASE_PING_AFTER_IDLE": None}  # inline mail delivery, as the suite

    def test_a_registration_takes_one_connection_and_no_session(
        self, app, client, auth, make_event, owner, connection_use
    ):
        """The token and the placement: no ORM Session's transaction around them (it cost
        a registration about as much CPU as the statements). The mail is left queued
        here: delivering it in the request (the suite's setting) uses the ORM."""
        app.config["MAIL_DELIVERY"] = "outbox"
        event = make_event(owner=owner)
        connection_use.update(checkouts=0, sessions=0)
        for n in (1, 2):
            assert post(client, auth, event.id, body_for(n))["status"] == "confirmed"
        assert connection_use == {"checkouts": 2, "sessions": 0}

    def test_a_registration_that_promotes_and_mails_takes_one_connection(
        self, app, client, auth, make_event, owner, connection_use
    ):
        event = make_event(owner=owner, capacity=1)
        assert post(client, auth, event.id, body_for(1))["status"] == "confirmed"
        assert post(client, auth, event.id, body_for(2))["status"] == "waitlisted"
        with app.app_context():  # a seat more, written behind the service's back
            db.session.execute(sa.update(Event).where(Event.id == event.id).values(capacity=2))
            db.session.commit()
        connection_use["checkouts"] = 0
        third = post(client, auth, event.id, body_for(3))
        # Number 2 was promoted (through the ORM) before number 3 was placed, in line.
        assert (third["status"], third["waitlist_position"]) == ("waitlisted", 1)
        assert connection_use["checkouts"] == 1
        with app.app_context():
            rows = db.session.execute(
                sa.select(Registration.email, Registration.status)
                .where(Registration.event_id == event.id)
                .order_by(Registration.id)
            ).all()
            mails = db.session.execute(
                sa.select(OutgoingMail.to, OutgoingMail.kind, OutgoingMail.status).order_by(
                    OutgoingMail.id
                )
            ).all()[-2:]
        assert [(email[:8], str(status)) for email, status in rows] == [
            ("peserta1", "confirmed"),
            ("peserta2", "confirmed"),
            ("peserta3", "waitlisted"),
        ]
        assert sorted(mails) == [
            ("peserta2@muaraenimkab.go.id", "registration.promoted", "sent"),
            ("peserta3@muaraenimkab.go.id", "registration.waitlisted", "sent"),
        ]

    def test_a_refused_registration_leaves_nothing_and_its_connection_free(
        self, app, client, auth, make_event, owner, connection_use
    ):
        """A duplicate (refused after the lock, with the ORM mailing the manage link again)
        rolls back and gives its connection back: the next request finds it free."""
        event = make_event(owner=owner)
        created = post(client, auth, event.id, body_for(1))
        connection_use["checkouts"] = 0
        refused = post(client, auth, event.id, body_for(1, name="Lagi"), status=409)
        assert (refused["error"], refused["existing_id"]) == (
            "duplicate_registration",
            created["id"],
        )
        assert connection_use["checkouts"] == 1
        with app.app_context():
            pool = db.engine.pool
            assert pool.checkedout() == 0
            assert (
                db.session.scalar(
                    sa.select(sa.func.count(Registration.id)).where(
                        Registration.event_id == event.id
                    )
                )
                == 1
            )
            assert (
                db.session.scalar(
                    sa.select(sa.func.count(OutgoingMail.id)).where(
                        OutgoingMail.kind == "registration.manage_link"
                    )
                )
                == 1
            )


# --- rate limit --------------------------------------------------------------------------


@pytest.fixture
def no_mail_delivery(monkeypatch):
    """Leave mails queued in the outbox (as with the SMTP server down; `flask send-mail`
    delivers them): rendering a thousand PDF tickets is not what this test measures."""
    from workshop.services import mail

    monkeypatch.setattr(mail, "deliver", lambda mail_ids: {"sent": 0, "failed": 0})


class TestPlanOfThePlacement:
    """The counts a registration is placed by, read holding the event's lock, must read
    the placement's index whatever the table holds, and whatever the statistics were
    when the statement was planned. On PostgreSQL the app's connections plan a prepared
    statement once for any parameter values (generic plans) and keep that plan until the
    table's statistics change. With one earlier event's confirmed people most of the
    table, that plan read the whole table for the waiting list and, for an event with a
    capacity, read it from the start for the seats taken; and a plan made on tables
    never analyzed (a new database, the first registrations) counted the waiting list by
    reading every active registration of the event through the email's unique index:
    for every registration, slower as the table grew."""

    @staticmethod
    def rows(event_id: int, count: int, status: str) -> list[dict]:
        at = FIXED_NOW
        return [
            {
                "event_id": event_id,
                "name": "Peserta",
                "employment_status": "non_asn",
                "email": f"peserta-{event_id}-{status}-{n}@example.com",
                "position": "Staf",
                "institution": "Dinas",
                "role": "participant",
                "status": status,
                "manage_token": secrets.token_urlsafe(24),
                "check_in_code": secrets.token_urlsafe(24),
                "created_at": at,
                "updated_at": at,
                "confirmed_at": at if status == "confirmed" else None,
                "waitlisted_at": at if status == "waitlisted" else None,
            }
            for n in range(count)
        ]

    @staticmethod
    def explain(conn, *calls, first_run_before=None) -> list[str]:
        """EXPLAIN ANALYZE of each (statement, parameters) as the app's connections run
        it: prepared and planned once, generically. ``first_run_before``: run each once
        first (where it is planned), then call this, then explain them."""
        statements = []
        for n, (pipelined, params) in enumerate(calls):
            compiled = pipelined.compiled(conn.dialect)
            values = compiled.parameters(params)
            arguments = psycopg.sql.SQL(", ").join(map(psycopg.sql.Literal, values))
            statements.append((psycopg.sql.Identifier(f"counts_{n}"), compiled.query, arguments))
        plans = []
        with conn.connection.driver_connection.cursor() as cursor:
            assert cursor.execute("SHOW plan_cache_mode").fetchone() == ("force_generic_plan",)
            for name, query, arguments in statements:
                cursor.execute(
                    psycopg.sql.SQL("PREPARE {} AS ").format(name).as_bytes(cursor) + query
                )
                if first_run_before is not None:
                    cursor.execute(psycopg.sql.SQL("EXECUTE {}({})").format(name, arguments))
            if first_run_before is not None:
                first_run_before()
            for name, _, arguments in statements:
                cursor.execute(
                    psycopg.sql.SQL(
                        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE {}({})"
                    ).format(name, arguments)
                )
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
                cursor.execute(psycopg.sql.SQL("DEALLOCATE {}").format(name))
        return plans

    @staticmethod
    def params(event_id: int) -> dict:
        """A new person (no NIP, no unit) at the event."""
        return {"event_id": event_id, "email": "baru@example.com", "nip": None, "unit_id": None}

    @staticmethod
    def assert_sqlite_reads_the_placement_index(conn, params: dict) -> None:
        from workshop.services import placement

        statement = placement.EVENT_AND_PLACEMENT.compiled(conn.dialect)
        steps = [
            row[3]
            for row in conn.connection.driver_connection.execute(
                "EXPLAIN QUERY PLAN " + statement.query, statement.parameters(params)
            )
        ]
        reads = [step for step in steps if " registration " in f" {step} "]
        assert reads and all(step.startswith("SEARCH registration USING") for step in reads), steps
        assert sum("INDEX ix_registration_placement" in step for step in reads) == 3
        assert not any("TEMP B-TREE" in step for step in steps), steps

    @staticmethod
    def assert_reads_the_placement_index(plan: str, reads: int = 3) -> None:
        """The counts (by default three: the waiting list, the seats taken and the unit's
        share) read through the placement's index, none by reading an event's
        registrations to keep those of one status.

        (The duplicate checks' reads are not asserted here: on tables without statistics
        PostgreSQL may check the NIP through the email's unique index, depending on which
        of the two was created first; in a database made by the migrations it uses the
        NIP's.)"""
        assert "Seq Scan on registration" not in plan, plan
        assert "Filter: ((status)::text" not in plan, plan
        assert plan.count("using ix_registration_placement on registration") == reads, plan

    def test_the_counts_read_the_placement_index_after_a_large_earlier_event(
        self, app, make_event, owner
    ):
        from workshop.services import placement

        earlier = make_event(owner=owner)
        event = make_event(owner=owner, capacity=100, unit_quota=5)
        with app.app_context():
            db.session.execute(
                sa.insert(Registration.__table__),
                self.rows(earlier.id, 3000, "confirmed")
                + self.rows(event.id, 50, "confirmed")
                + self.rows(event.id, 5, "waitlisted"),
            )
            db.session.commit()
            conn = db.session.connection()
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE registration")  # the statistics as stated
                [plan] = self.explain(conn, (placement.PIPELINED_PLACEMENT, self.params(event.id)))
                self.assert_reads_the_placement_index(plan)
            else:
                self.assert_sqlite_reads_the_placement_index(conn, self.params(event.id))
            db.session.rollback()

    def test_the_counts_read_the_placement_index_when_planned_before_any_statistics(
        self, app, make_event, owner
    ):
        """PostgreSQL: a statement planned on a new database's empty tables, never
        analyzed, keeps its plan as the event fills (until the table is next analyzed,
        which autovacuum does a minute or more later). SQLite keeps no statistics unless
        told to (the test above reads its plan without them)."""
        from workshop.services import pipeline, placement

        event = make_event(owner=owner, capacity=2000, unit_quota=5)
        with app.app_context():
            conn = db.session.connection()
            if conn.dialect.name != "postgresql":
                # SQLite has no statistics here either: it reads the placement's index.
                assert not conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).first()
                self.assert_sqlite_reads_the_placement_index(conn, self.params(event.id))
                db.session.rollback()
                return
            # The app's tables, made afresh in a schema of their own (so never analyzed),
            # holding the same users, units and events.
            schema = f"plan_{secrets.token_hex(4)}"
            tables = set()
            todo = [Registration.__table__]
            while todo:
                table = todo.pop()
                if table not in tables:
                    tables.add(table)
                    todo.extend(fk.column.table for fk in table.foreign_keys)
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            in_schema = conn.execution_options(schema_translate_map={None: schema})
            Base.metadata.create_all(in_schema, tables=list(tables))
            for table in [t for t in Base.metadata.sorted_tables if t in tables]:
                conn.exec_driver_sql(
                    f'ALTER TABLE {schema}."{table.name}" SET (autovacuum_enabled = false)'
                )
                if table is not Registration.__table__:
                    public = table.to_metadata(sa.MetaData(), schema="public")
                    in_schema.execute(
                        sa.insert(table).from_select(list(table.c.keys()), sa.select(*public.c))
                    )
            conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
            assert (
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stats WHERE schemaname = %(s)s", {"s": schema}
                ).scalar()
                == 0
            )

            def the_event_fills():
                conn.execute(
                    sa.insert(Registration.__table__),
                    self.rows(event.id, 2000, "confirmed") + self.rows(event.id, 5, "waitlisted"),
                )

            counts, taken, unit_taken = self.explain(
                conn,
                (placement.PIPELINED_PLACEMENT, self.params(event.id)),
                # ``placement.taken``: the seats left on the event's page, promotions.
                (pipeline.Pipelined(placement._TAKEN), {"event_id": event.id}),
                (pipeline.Pipelined(placement._UNIT_TAKEN), {"event_id": event.id, "unit_id": 1}),
                first_run_before=the_event_fills,
            )
            self.assert_reads_the_placement_index(counts)
            self.assert_reads_the_placement_index(taken, reads=1)
            self.assert_reads_the_placement_index(unit_taken, reads=1)
            db.session.rollback()


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "REGISTRATION_RATE_LIMIT": "30 per minute"}

    def test_a_thousand_organizer_calls_in_a_row_are_not_throttled(
        self, client, auth, make_event, owner, stored, no_mail_delivery
    ):
        """1,000 calls from one token in a row, all in the organizer budget: 300 real
        registrations (each ~25 ms of validation, locked placement and queued mail, so 1,000
        would add half a minute to every suite run) and 700 reads of them. The public
        form's own limit (30 per minute per address) would have refused the 31st."""
        event = make_event(owner=owner, capacity=1000)
        created, read = [], []
        for n in range(300):
            response = client.post(
                f"/api/v1/events/{event.id}/registrations", json=body_for(n), headers=auth
            )
            created.append((response.status_code, response.get_json().get("id")))
        for n in range(700):
            reg_id = created[n % 300][1]
            response = client.get(f"/api/v1/registrations/{reg_id}", headers=auth)
            read.append(response.status_code)
        assert [status for status, _ in created] == [201] * 300
        assert read == [200] * 700
        # One shared budget of 3,000 per minute: 1,000 spent, 2,000 left.
        assert response.headers["X-RateLimit-Limit"] == "3000"
        assert response.headers["X-RateLimit-Remaining"] == "2000"
        regs = stored(event.id)
        assert [r.id for r in regs] == [reg_id for _, reg_id in created]
        assert {str(r.status) for r in regs} == {"confirmed"}

    def test_the_api_limit_is_per_token_user(
        self, app, client, actors, bearer, make_event, owner, stored
    ):
        app.config["API_RATE_LIMIT"] = "3 per minute"
        event = make_event(owner=owner)
        other_event = make_event(owner=actors["other_organizer"])
        auth = bearer(owner)
        url = f"/api/v1/events/{event.id}/registrations"
        answers = [
            client.get(url, headers=auth),
            client.get("/api/v1/registrations/999999", headers=auth),  # 404 spends too
            client.get(url, headers=auth),
        ]
        assert [a.status_code for a in answers] == [200, 404, 200]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
        refused = client.post(url, json={"name": "x"}, headers=bearer(owner))  # another token
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "rate_limited"
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert (refused.headers["X-RateLimit-Limit"], refused.headers["X-RateLimit-Remaining"]) == (
            "3",
            "0",
        )
        assert 0 < int(refused.headers["X-RateLimit-Reset"]) - time.time() <= 60
        assert len(stored(event.id)) == 0  # the refused call was not run
        other = client.get(
            f"/api/v1/events/{other_event.id}/registrations",
            headers=bearer(actors["other_organizer"]),
        )
        assert other.status_code == 200


def test_openapi_describes_what_the_registration_endpoints_answer(client, auth, event):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    created = post(client, auth, event.id, body_for(1))
    assert set(schemas["Registration"]["properties"]) == set(created)
    assert set(schemas["Registration"]["required"]) == set(created)
    assert set(schemas["RegistrationInput"]["properties"]) == set(body_for(1)) | {
        "phone",
        "nip",
        "position",
        "unit_id",
        "role",
    }
    cancelled = client.post(
        f"/api/v1/registrations/{created['id']}/cancel", headers=auth
    ).get_json()
    assert set(schemas["CancelResult"]["properties"]) == set(cancelled)
    post(client, auth, event.id, body_for(2))
    duplicate = post(client, auth, event.id, body_for(2), status=409)
    conflict = schemas["RegistrationConflict"]["allOf"][1]["properties"]
    assert duplicate["error"] in conflict["error"]["enum"]
    assert set(duplicate) == {"error", "message", "existing_id"}
