"""Registration rules: capacity, unit quota, waiting list, window, duplicates, mail."""

import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import FIXED_NOW
from workshop.extensions import db
from workshop.models import (
    AuditLog,
    EventStatus,
    MailStatus,
    OutgoingMail,
    Registration,
    RegistrationStatus,
    Role,
)
from workshop.services import mail, placement, registration, registration_input
from workshop.services.errors import ValidationError
from workshop.services.registration import (
    DuplicateRegistration,
    EventFull,
    RegistrationClosed,
    RegistrationNotOpen,
    UnitQuotaFull,
)

CONFIRMED, WAITLISTED, CANCELLED = RegistrationStatus


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_FILE_DIR": str(tmp_path / "mail")}


def statuses(app, event):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Registration.email, Registration.status)
            .where(Registration.event_id == event.id)
            .order_by(Registration.id)
        )
        return {email: str(status) for email, status in rows}


def mails(app, kind=None):
    with app.app_context():
        query = sa.select(OutgoingMail).order_by(OutgoingMail.id)
        if kind:
            query = query.where(OutgoingMail.kind == kind)
        result = db.session.scalars(query).all()
        db.session.expunge_all()
        return result


# --- input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Ni Luh Putu Ayu", "Sukarno", "Ir. H. Abdul Najib, MM", "Nguyễn Thị Minh Khai", "O'Neil"],
)
def test_names_are_kept_exactly(app, make_event, person, register, name):
    event = make_event()
    outcome = register(event, person(name=name))
    assert outcome.registration.name == name


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"nip": "19680411 199303 1 00", "employment_status": "pns"}, "nip"),
        ({"nip": "1968041119930310AB", "employment_status": "pns"}, "nip"),
        ({"nip": "19681411 199303 1 009", "employment_status": "pns"}, "nip"),
        ({"nip": "", "employment_status": "pns"}, "nip"),
        ({"nip": "19680411 199303 1 009", "employment_status": "non_asn"}, "nip"),
        ({"email": "tanpa-at.example.com"}, "email"),
        ({"phone": "0812-ABCD-7890"}, "phone"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"unit_id": 999_999, "institution": ""}, "unit_id"),
        ({"employment_status": "honorer"}, "employment_status"),
        ({"role": "vip"}, "role"),
    ],
)
def test_each_invalid_field_gets_its_message_and_nothing_is_stored(
    app, make_event, person, register, fields, bad
):
    event = make_event()
    with pytest.raises(ValidationError) as info:
        register(event, person(**fields))
    assert list(info.value.fields) == [bad]
    assert info.value.fields[bad][0]
    assert statuses(app, event) == {}


def test_unit_and_institution_are_exclusive(app, make_event, make_unit, person, register):
    event, unit = make_event(), make_unit()
    with pytest.raises(ValidationError) as info:
        register(event, person(unit=unit, institution="Pemkab Bogor"))
    assert "institution" in info.value.fields
    with pytest.raises(ValidationError) as info:
        register(event, person(unit_id=None, institution=""))
    assert "unit_id" in info.value.fields


def test_valid_pns_is_stored_normalised(app, make_event, make_unit, person, register):
    event, unit = make_event(), make_unit()
    outcome = register(
        event,
        person(
            unit=unit,
            employment_status="pns",
            nip="19680411 199303 1 009",
            email="Najib@Example.COM",
            phone="+62 812 3456 7890",
        ),
    )
    reg = outcome.registration
    assert (reg.nip, reg.email, reg.phone) == (
        "196804111993031009",
        "najib@example.com",
        "+6281234567890",
    )
    assert reg.status == CONFIRMED
    assert reg.manage_token != reg.check_in_code
    assert len(reg.manage_token) >= 43 and len(reg.check_in_code) >= 43  # 256 bits each


# --- capacity, waiting list, quota ------------------------------------------


def test_full_event_waitlists_in_order_then_refuses_without_waitlist(
    app, make_event, person, register
):
    event = make_event(capacity=2, waitlist=True)
    results = [register(event, person()) for _ in range(4)]
    assert [str(r.registration.status) for r in results] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    assert [r.position for r in results] == [None, None, 1, 2]

    closed = make_event(capacity=1, waitlist=False)
    register(closed, person())
    with pytest.raises(EventFull):
        register(closed, person())
    assert len(statuses(app, closed)) == 1


def test_cancellation_promotes_the_earliest_waiting(app, make_event, person, register):
    event = make_event(capacity=1)
    first = register(event, person(email="a@example.com")).registration
    register(event, person(email="b@example.com"))
    register(event, person(email="c@example.com"))
    with app.app_context():
        outcome = registration.cancel(first.id, now=FIXED_NOW)
        assert [p.email for p in outcome.promoted] == ["b@example.com"]
    assert statuses(app, event) == {
        "a@example.com": "cancelled",
        "b@example.com": "confirmed",
        "c@example.com": "waitlisted",
    }
    assert [m.to for m in mails(app, "registration.promoted")] == ["b@example.com"]
    # Cancelling again changes nothing and promotes nobody.
    with app.app_context():
        assert registration.cancel(first.id, now=FIXED_NOW).promoted == []
    assert statuses(app, event)["c@example.com"] == "waitlisted"


def test_unit_quota(app, make_event, make_unit, person, register):
    event = make_event(capacity=10, unit_quota=2, waitlist=True)
    bappeda, dinkes = make_unit(short_name="Bappeda"), make_unit(short_name="Dinkes")
    a = register(event, person(unit=bappeda, email="a@example.com")).registration
    register(event, person(unit=bappeda, email="b@example.com"))
    third = register(event, person(unit=bappeda, email="c@example.com"))
    assert third.registration.status == WAITLISTED
    # Another unit and outside guests are not held back by Bappeda's quota.
    assert register(event, person(unit=dinkes)).registration.status == CONFIRMED
    assert register(event, person()).registration.status == CONFIRMED
    # A cancellation frees the unit's place for its waiting member.
    with app.app_context():
        promoted = registration.cancel(a.id, now=FIXED_NOW).promoted
        assert [p.email for p in promoted] == ["c@example.com"]

    strict = make_event(unit_quota=1, waitlist=False)
    register(strict, person(unit=dinkes))
    with pytest.raises(UnitQuotaFull):
        register(strict, person(unit=dinkes))


def test_at_a_full_event_a_registration_reads_the_waiting_list_only_to_its_first(
    app, make_event, person, register
):
    """Every registration first promotes whoever fits; at a full event nobody who counts
    against the capacity does, so the long waiting list is not loaded row by row."""
    event = make_event(capacity=1, waitlist=True)
    for _ in range(25):
        register(event, person())
    loaded = []

    def on_load(target, _context):
        loaded.append(target.id)

    sa.event.listen(Registration, "load", on_load)
    try:
        outcome = register(event, person())
    finally:
        sa.event.remove(Registration, "load", on_load)
    assert (str(outcome.registration.status), outcome.position) == ("waitlisted", 25)
    assert len(loaded) <= 2  # the first in line (who cannot get in), not all 24


def test_quota_blocked_waiter_does_not_block_others(app, make_event, make_unit, person, register):
    event = make_event(capacity=3, unit_quota=1)
    unit_a, unit_b = make_unit(), make_unit()
    first = register(event, person(unit=unit_a, email="a1@example.com")).registration
    register(event, person(unit=unit_b, email="b1@example.com"))
    register(event, person(email="guest1@example.com"))  # full now
    register(event, person(unit=unit_a, email="a2@example.com"))  # waits (full, and quota)
    register(event, person(unit=unit_b, email="b2@example.com"))  # waits (full, and quota)
    register(event, person(email="guest2@example.com"))  # waits (full)
    with app.app_context():
        promoted = registration.cancel(
            db.session.scalar(
                sa.select(Registration.id).where(Registration.email == "b1@example.com")
            ),
            now=FIXED_NOW,
        ).promoted
        # a2 is first in line but unit A is at its quota; b2 takes B's freed place.
        assert [p.email for p in promoted] == ["b2@example.com"]
    assert first.status == CONFIRMED


def test_raising_capacity_promotes_exactly_the_new_seats(app, make_event, person, register):
    event = make_event(capacity=2)
    for _ in range(5):
        register(event, person())
    with app.app_context():
        from workshop.models import Event

        db.session.get(Event, event.id).capacity = 4
        db.session.commit()
        outcome = registration.fill_from_waitlist(event.id, now=FIXED_NOW)
        assert len(outcome.promoted) == 2
    assert list(statuses(app, event).values()).count("confirmed") == 4


def test_seats_are_counted_against_the_limits_whatever_they_become(
    app, make_event, make_unit, person, register
):
    """A new registration counts the seats up to the capacity and a unit's up to its quota
    (all the rules compare them with; an event without a capacity counts none): lowered
    below what is confirmed, the event and the unit stay full; without limits, whoever
    waits goes first and the new person follows."""
    from workshop.models import Event

    def limit(**limits):
        with app.app_context():
            stored = db.session.get(Event, event.id)
            for name, value in limits.items():
                setattr(stored, name, value)
            db.session.commit()

    event = make_event(capacity=3, unit_quota=2, waitlist=True)
    unit = make_unit()
    for email in ("u1@example.com", "u2@example.com", "g1@example.com"):
        register(event, person(unit=unit if email[0] == "u" else None, email=email))
    limit(capacity=1, unit_quota=1)
    outcome = register(event, person(email="g2@example.com"))
    assert (outcome.registration.status, outcome.position) == (WAITLISTED, 1)
    limit(capacity=None)  # the unit's quota (1) still holds: it has 2
    outcome = register(event, person(unit=unit, email="u3@example.com"))
    assert (outcome.registration.status, outcome.position) == (WAITLISTED, 1)
    assert statuses(app, event)["g2@example.com"] == "confirmed"  # promoted first
    limit(unit_quota=None)
    outcome = register(event, person(unit=unit, email="u4@example.com"))
    assert outcome.registration.status == CONFIRMED
    assert set(statuses(app, event).values()) == {"confirmed"}  # u3 promoted first


def test_speakers_and_committee_take_no_seat(app, make_event, person, register):
    event = make_event(capacity=1, waitlist=False)
    register(event, person(role="speaker"))
    register(event, person(role="committee"))
    assert register(event, person()).registration.status == CONFIRMED


def test_restore_and_promote_by_hand(app, make_event, make_unit, make_user, person, register):
    organizer = make_user(Role.ORGANIZER)
    unit = make_unit()
    event = make_event(capacity=3, unit_quota=1)
    a = register(event, person(unit=unit, email="a@example.com")).registration
    waiting = register(event, person(unit=unit, email="b@example.com")).registration
    assert waiting.status == WAITLISTED
    with app.app_context():
        # Organizer passes over the unit quota (capacity allows it).
        outcome = registration.promote_by_hand(waiting.id, now=FIXED_NOW, actor=organizer)
        assert outcome.registration.status == CONFIRMED
        registration.cancel(a.id, now=FIXED_NOW)
        restored = registration.restore(a.id, now=FIXED_NOW, actor=organizer)
        # Unit quota is 1 and b holds it now: a goes to the end of the waiting list.
        assert restored.registration.status == WAITLISTED
        assert restored.waitlist_position == 1


def test_promote_by_hand_never_passes_capacity(app, make_event, make_user, person, register):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(capacity=1)
    register(event, person())
    waiting = register(event, person()).registration
    with app.app_context(), pytest.raises(EventFull):
        registration.promote_by_hand(waiting.id, now=FIXED_NOW, actor=organizer)


def test_a_registration_that_waited_for_the_lock_counts_the_seat_taken_meanwhile(
    app, make_event, make_user, person, register, monkeypatch
):
    """The seats are counted after the event's lock is got, not before: on PostgreSQL the
    counts are a statement sent behind the locking one (its own snapshot, taken when the
    lock is held), on SQLite the transaction begins with the write lock. An import holds
    the lock of a one-seat event with its one row not yet committed while a registration
    waits for it: that registration must see the seat taken and wait in line."""
    organizer = make_user(Role.ORGANIZER)
    event = make_event(capacity=1)
    holding, release = threading.Event(), threading.Event()
    place_batch = registration._place_batch

    def place_and_hold(*args):
        placed = place_batch(*args)
        holding.set()
        release.wait(timeout=30)
        return placed

    monkeypatch.setattr(registration, "_place_batch", place_and_hold)
    outcomes = {}

    def run(name, work):
        with app.app_context():
            try:
                outcomes[name] = work()
            except Exception as exc:  # reported by the assertion below
                outcomes[name] = exc

    importing = threading.Thread(
        target=run,
        args=(
            "import",
            lambda: [
                str(row.status)
                for row in registration.register_many(
                    event.id,
                    [person(email="impor@example.com")],
                    now=FIXED_NOW,
                    actor=organizer,
                    send_mail=False,
                )
            ],
        ),
    )
    importing.start()
    assert holding.wait(timeout=30)
    waiting = threading.Thread(
        target=run,
        args=(
            "online",
            lambda: registration.register(
                event.id, person(email="online@example.com"), now=FIXED_NOW, send_mail=False
            ).registration.status,
        ),
    )
    waiting.start()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # until it waits for the row lock
            for _ in range(300):
                with db.engine.connect() as conn:
                    if conn.scalar(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()"
                        )
                    ):
                        break
                time.sleep(0.01)
            else:
                raise AssertionError("the registration never waited for the event's lock")
        else:  # in SQLite's busy handler, which nothing shows from outside
            time.sleep(0.5)
    release.set()
    importing.join(timeout=30)
    waiting.join(timeout=30)
    assert outcomes["import"] == ["confirmed"]
    assert outcomes["online"] == WAITLISTED
    assert statuses(app, event) == {
        "impor@example.com": "confirmed",
        "online@example.com": "waitlisted",
    }


# --- window and duplicates ---------------------------------------------------


def test_registration_window(app, make_event, person, register):
    event = make_event(
        registration_opens_at=FIXED_NOW + timedelta(days=1),
        registration_closes_at=FIXED_NOW + timedelta(days=3),
    )
    with pytest.raises(RegistrationNotOpen):
        register(event, person(), by_organizer=False)
    assert (
        register(
            event, person(), by_organizer=False, now=FIXED_NOW + timedelta(days=2)
        ).registration.status
        == CONFIRMED
    )
    with pytest.raises(RegistrationClosed):
        register(event, person(), by_organizer=False, now=FIXED_NOW + timedelta(days=3))
    # The organizer may still add people after closing...
    assert register(event, person(), now=FIXED_NOW + timedelta(days=4)).registration


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_draft_and_cancelled_events_accept_nothing(app, make_event, person, register, status):
    event = make_event(status=status)
    with pytest.raises(RegistrationClosed):
        register(event, person(), by_organizer=False)
    assert statuses(app, event) == {}


def test_organizer_cannot_add_to_cancelled_event(app, make_event, person, register):
    event = make_event(status=EventStatus.CANCELLED)
    with pytest.raises(RegistrationClosed):
        register(event, person())


def test_duplicate_email_or_nip_refused_and_manage_link_resent(
    app, make_event, make_unit, person, register
):
    event, unit = make_event(), make_unit()
    first = register(
        event,
        person(
            unit=unit, email="sri@example.com", employment_status="pns", nip="19680411 199303 1 009"
        ),
    ).registration
    with pytest.raises(DuplicateRegistration) as info:
        register(event, person(email="SRI@example.com"))
    assert info.value.existing_id == first.id
    with pytest.raises(DuplicateRegistration):
        register(
            event,
            person(email="lain@example.com", employment_status="pns", nip="196804111993031009"),
        )
    resent = mails(app, "registration.manage_link")
    assert [m.to for m in resent] == ["sri@example.com", "sri@example.com"]
    assert all(m.status == MailStatus.SENT for m in resent)
    # After cancelling, the same person may register again.
    with app.app_context():
        registration.cancel(first.id, now=FIXED_NOW)
    assert register(event, person(email="sri@example.com")).registration.status == CONFIRMED


def test_a_duplicate_only_the_unique_index_catches_is_refused_without_a_trace(
    app, make_event, person, register, monkeypatch
):
    """Should a duplicate slip past the counts (a race the lock is there to prevent), the
    unique index refuses its row: the person is told they are registered, as for any
    duplicate, and none of its rows is stored (the registration, the audit row and the
    mail are written together). The connection then serves the next registration."""
    event = make_event()
    register(event, person(email="sri@example.com"))
    lock_for_placement = placement.lock_for_placement

    def blind_to_duplicates(conn, params):
        event_row, counts = lock_for_placement(conn, params)
        return event_row, SimpleNamespace(**{**counts._asdict(), "duplicate_id": None})

    monkeypatch.setattr(placement, "lock_for_placement", blind_to_duplicates)
    with pytest.raises(DuplicateRegistration) as info:
        register(event, person(email="sri@example.com"), send_mail=True)
    assert info.value.existing_id is None
    assert statuses(app, event) == {"sri@example.com": "confirmed"}
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditLog.object_type == "registration")
            )
            == 1
        )
    assert [m.to for m in mails(app)] == ["sri@example.com"]
    assert register(event, person(email="lain@example.com")).registration.status == CONFIRMED


def test_same_person_may_register_for_another_event(app, make_event, person, register):
    register(make_event(), person(email="sama@example.com"))
    assert register(make_event(), person(email="sama@example.com")).registration


# --- mail --------------------------------------------------------------------


def test_confirmation_mail_written_as_eml_with_manage_link(
    app, make_event, person, register, tmp_path
):
    event = make_event(title="Workshop Inovasi Pelayanan Publik")
    reg = register(event, person(name="Ir. H. Abdul Najib, MM")).registration
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == reg.email
    assert "Workshop Inovasi Pelayanan Publik" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Ir. H. Abdul Najib, MM" in text
    assert f"/r/{reg.manage_token}" in text
    assert reg.check_in_code in text
    html = message.get_body(("html",)).get_content()
    assert f"/r/{reg.manage_token}" in html


def test_mail_server_down_keeps_registration_and_retries(
    app, make_event, person, register, tmp_path
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)  # nothing listens
    event = make_event()
    reg = register(event, person()).registration
    assert statuses(app, event) == {reg.email: "confirmed"}
    [queued] = mails(app)
    assert queued.status == MailStatus.PENDING
    assert queued.attempts == 1 and "Error" in queued.last_error
    # The server is back (file transport here): the retry sends it.
    app.config["MAIL_SERVER"] = None
    with app.app_context():
        assert mail.send_pending() == {"sent": 1, "failed": 0}
    assert mails(app)[0].status == MailStatus.SENT


def test_mail_marked_failed_after_max_attempts_and_resendable(app, make_event, person, register):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2, MAIL_MAX_ATTEMPTS=2)
    register(make_event(), person())
    with app.app_context():
        mail.send_pending()
    [failed] = mails(app)
    assert failed.status == MailStatus.FAILED
    app.config["MAIL_SERVER"] = None
    with app.app_context():
        mail.resend(failed.id)
    assert mails(app)[0].status == MailStatus.SENT


def test_send_mail_command(app, runner, make_event, person, register):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)
    register(make_event(), person())
    app.config["MAIL_SERVER"] = None
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 1" in result.output


def test_register_many_places_rows_in_order_in_one_transaction(app, make_event, make_user, person):
    organizer = make_user(Role.ORGANIZER)
    event = make_event(capacity=2, waitlist=False)
    rows = [
        person(email="a@example.com"),
        person(email="b@example.com"),
        person(email="A@example.com"),
        person(email="c@example.com"),
    ]
    with app.app_context():
        today = FIXED_NOW.date()
        rows = [registration_input.validate_registration(r, today) for r in rows]
        results = registration.register_many(event.id, rows, now=FIXED_NOW, actor=organizer)
        kinds = [type(r).__name__ for r in results]
    assert kinds == ["Registration", "Registration", "DuplicateRegistration", "EventFull"]
    assert statuses(app, event) == {"a@example.com": "confirmed", "b@example.com": "confirmed"}
