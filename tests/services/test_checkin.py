"""Check-in rules: every scan outcome, per-day attendance, exactly once, undo."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import (
    AuditLog,
    Checkin,
    CheckinMethod,
    Event,
    Registration,
    Role,
    User,
)
from workshop.services import checkin, registration
from workshop.services.checkin import ScanResult
from workshop.services.errors import NotAllowed, NotFound
from workshop.timeutil import WIB

DAY1 = datetime(2030, 1, 15, 8, 0, tzinfo=WIB)  # FIXED_NOW is 09.00 WIB that day


@pytest.fixture
def setup(app, make_event, make_user, person, register):
    """A two-day event running today with a staff member, and helpers to scan."""
    organizer = make_user(Role.ORGANIZER)
    staff = make_user(Role.STAFF)
    event = make_event(
        owner=organizer, starts_at=DAY1, ends_at=DAY1 + timedelta(days=1, hours=8), capacity=2
    )
    with app.app_context():
        checkin.assign_staff(
            db.session.get(Event, event.id),
            db.session.get(User, staff.id),
            db.session.get(User, organizer.id),
        )
        db.session.commit()

    def scan(code, now=FIXED_NOW, who=staff, **kwargs):
        with app.app_context():
            actor = db.session.get(User, who.id)
            result = checkin.scan(
                checkin.open_door(actor, event.id, now), code, actor=actor, now=now, **kwargs
            )
            name = result.registration.name if result.registration else None
            other = result.other_event.title if result.other_event else None
            return result.result, name, other, result.checkin.id if result.checkin else None

    return event, organizer, staff, scan


def rows(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Checkin.id)))


def test_every_outcome(app, setup, make_event, person, register):
    event, organizer, _staff, scan = setup
    ok = register(event, person(name="Sri Wahyuni")).registration
    other_ok = register(event, person()).registration
    waiting = register(event, person()).registration
    assert waiting.status == "waitlisted"
    cancelled = register(make_event(owner=organizer, title="Rapat Lain"), person()).registration
    with app.app_context():
        registration.cancel(other_ok.id, now=FIXED_NOW)  # promotes `waiting`
        registration.cancel(cancelled.id, now=FIXED_NOW)
    waiting2 = register(event, person()).registration
    with app.app_context():
        registration.cancel(other_ok.id, now=FIXED_NOW)

    assert scan(ok.check_in_code)[:2] == (ScanResult.OK, "Sri Wahyuni")
    assert scan(ok.check_in_code)[0] == ScanResult.ALREADY
    assert scan(other_ok.check_in_code)[0] == ScanResult.CANCELLED
    assert scan(waiting2.check_in_code)[0] == ScanResult.NOT_CONFIRMED
    result, _name, other_title, _ = scan(cancelled.check_in_code, who=organizer)
    assert (result, other_title) == (ScanResult.WRONG_EVENT, "Rapat Lain")
    assert scan("x" * 43)[0] == ScanResult.NOT_FOUND
    assert scan(ok.check_in_code, now=FIXED_NOW + timedelta(days=5))[0] == ScanResult.NOT_EVENT_DAY
    assert scan(ok.check_in_code, now=FIXED_NOW - timedelta(days=1))[0] == ScanResult.NOT_EVENT_DAY
    assert rows(app) == 1


def test_wrong_event_hides_a_draft_the_scanner_may_not_see(
    app, setup, make_event, person, register
):
    _event, _organizer, _staff, scan = setup
    draft = make_event(status="draft", title="Rapat Rahasia")
    reg = register(draft, person()).registration
    assert scan(reg.check_in_code)[:3] == (ScanResult.WRONG_EVENT, None, None)


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "x" * 5000, "abc\x00def\x07" * 3, "https://example.com/some/other/qr?x=1", None],
)
def test_junk_is_not_found_and_records_nothing(app, setup, junk):
    _event, _o, _s, scan = setup
    assert scan(junk)[0] == ScanResult.NOT_FOUND
    assert rows(app) == 0


def test_scanner_whitespace_is_ignored(app, setup, person, register):
    event, _o, _s, scan = setup
    reg = register(event, person()).registration
    assert scan(f"  {reg.check_in_code}\r\n")[0] == ScanResult.OK


def test_attendance_is_per_day(app, setup, person, register):
    event, _o, _s, scan = setup
    reg = register(event, person()).registration
    assert scan(reg.check_in_code)[0] == ScanResult.OK
    assert scan(reg.check_in_code, now=FIXED_NOW + timedelta(days=1))[0] == ScanResult.OK
    assert (
        scan(reg.check_in_code, now=FIXED_NOW + timedelta(days=1, hours=2))[0] == ScanResult.ALREADY
    )
    assert rows(app) == 2


def test_nonce_makes_a_retry_count_once(app, setup, person, register):
    event, _o, _s, scan = setup
    reg = register(event, person()).registration
    first = scan(reg.check_in_code, nonce="n-1")
    again = scan(reg.check_in_code, nonce="n-1")
    assert first[0] == again[0] == ScanResult.OK
    assert first[3] == again[3]
    assert scan(reg.check_in_code, nonce="n-2")[0] == ScanResult.ALREADY
    assert rows(app) == 1


def test_a_nonce_reused_for_another_person_is_ignored(app, setup, person, register):
    event, _o, _s, scan = setup
    first, second = (register(event, person()).registration for _ in range(2))
    assert scan(first.check_in_code, nonce="n-shared")[0] == ScanResult.OK
    # A client bug: the same nonce for the next person. That person still counts.
    assert scan(second.check_in_code, nonce="n-shared")[0] == ScanResult.OK
    assert rows(app) == 2


def test_cancelled_between_the_read_and_the_write_is_not_checked_in(
    app, setup, person, register, monkeypatch
):
    """The scan reads the registration before taking the write lock; the insert itself
    takes effect only while the registration is still confirmed."""
    event, _o, _s, scan = setup
    reg = register(event, person()).registration
    real = checkin.run_statements

    def cancelled_meanwhile(work):
        # Another request cancels the registration after the scan read it.
        db.session.execute(
            sa.update(Registration).where(Registration.id == reg.id).values(status="cancelled")
        )
        return real(work)

    monkeypatch.setattr(checkin, "run_statements", cancelled_meanwhile)
    assert scan(reg.check_in_code)[0] == ScanResult.CANCELLED
    assert rows(app) == 0


def test_a_checkin_undone_between_the_conflict_and_its_read_is_made_again(
    app, setup, person, register, monkeypatch
):
    """The insert and the read of the row that refused it are separate statements: when
    an organizer undoes that row in between, the scan inserts again instead of calling
    the person unconfirmed."""
    event, _o, _s, scan = setup
    reg = register(event, person()).registration
    first_id = scan(reg.check_in_code)[3]
    real = checkin._door_checkin
    undone = []

    def undone_meanwhile(conn, statement, **params):
        undone.append(conn.execute(sa.delete(Checkin).where(Checkin.id == first_id)).rowcount)
        monkeypatch.setattr(checkin, "_door_checkin", real)
        return real(conn, statement, **params)

    monkeypatch.setattr(checkin, "_door_checkin", undone_meanwhile)
    assert scan(reg.check_in_code)[0] == ScanResult.OK
    assert undone == [1] and rows(app) == 1  # removed, then recorded again


def test_undo_removes_the_row_and_keeps_it_in_the_audit_log(app, setup, person, register):
    event, organizer, _s, scan = setup
    reg = register(event, person()).registration
    checkin_id = scan(reg.check_in_code)[3]
    with app.app_context():
        removed = checkin.undo(
            checkin_id,
            event=db.session.get(Event, event.id),
            actor=db.session.get(User, organizer.id),
        )
        db.session.commit()
        assert removed is not None
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "checkin.undo"))
        assert entry.details["registration_id"] == reg.id
        assert entry.user_id == organizer.id
    assert rows(app) == 0
    assert scan(reg.check_in_code)[0] == ScanResult.OK  # can be checked in again


def test_who_may_check_in(app, setup, make_user, make_event):
    event, organizer, staff, _scan = setup
    other_staff = make_user(Role.STAFF)
    participant = make_user(Role.PARTICIPANT)
    admin = make_user(Role.ADMIN)
    other_organizer = make_user(Role.ORGANIZER)
    with app.app_context():
        ev = db.session.get(Event, event.id)

        def may(user):
            try:
                checkin.open_door(db.session.get(User, user.id), ev.id)
            except (NotFound, NotAllowed):
                return False
            return True

        assert may(staff) and may(organizer) and may(admin)
        assert not may(other_staff)
        assert not may(participant)
        assert not may(other_organizer)
        assert [e.id for e in checkin.checkin_events(db.session.get(User, staff.id))] == [event.id]


def test_search_by_name_nip_and_unit(app, setup, make_unit, person, register):
    event, _o, _s, _scan = setup
    unit = make_unit(name="Dinas Komunikasi dan Informatika", short_name="Diskominfo")
    register(
        event,
        person(name="Sri Wahyuni", unit=unit, employment_status="pns", nip="19680411 199303 1 009"),
    )
    register(event, person(name="Budi"))
    with app.app_context():
        ev = db.session.get(Event, event.id)
        assert [r.name for r in checkin.search(ev, "wahyu")] == ["Sri Wahyuni"]
        assert [r.name for r in checkin.search(ev, "19680411 1993")] == ["Sri Wahyuni"]
        assert [r.name for r in checkin.search(ev, "diskominfo")] == ["Sri Wahyuni"]


def test_search_check_in_and_stats(app, setup, make_unit, person, register):
    event, _o, staff, _scan = setup
    unit = make_unit(short_name="Bappeda")
    a = register(event, person(unit=unit)).registration
    register(event, person())
    with app.app_context():
        ev = db.session.get(Event, event.id)
        actor = db.session.get(User, staff.id)
        result = checkin.check_in_registration(
            checkin.open_door(actor, ev.id, FIXED_NOW), a.id, actor=actor, now=FIXED_NOW
        )
        assert result.result == ScanResult.OK
        assert result.checkin.method == CheckinMethod.SEARCH
        stats = checkin.day_stats(ev, checkin.event_day_for(ev, FIXED_NOW))
        assert (stats["confirmed"], stats["checked_in"]) == (2, 1)
        by_unit = {r["unit"]: (r["confirmed"], r["checked_in"]) for r in stats["units"]}
        assert by_unit["Bappeda"] == (1, 1)
        assert len(checkin.recent(event.id)) == 1
