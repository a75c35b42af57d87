"""Check-in at the door: one scan, one answer; exactly one check-in per person per day.

The database's unique constraint (registration, day) is the guard: two doors scanning the
same code at the same moment both try to insert, one wins and the other is told "already
checked in". A client may send a ``nonce`` so that a retried request is answered with
the original check-in instead of being counted again.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from workshop.models import (
    Checkin,
    CheckinMethod,
    Event,
    EventDay,
    EventStaff,
    Registration,
    RegistrationStatus,
    Role,
    Unit,
    User,
    db,
)
from workshop.models.base import UTCDateTime
from workshop.services import audit
from workshop.services.errors import DomainError, NotAllowed, NotFound
from workshop.services.events import can_manage, can_view
from workshop.services.locking import run_in_write_transaction
from workshop.timeutil import to_wib

CODE_MAX = 64
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")  # what new_secret() produces


class ScanResult(StrEnum):
    OK = "ok"
    ALREADY = "already_checked_in"
    WRONG_EVENT = "wrong_event"
    CANCELLED = "cancelled"
    NOT_CONFIRMED = "not_confirmed"
    NOT_EVENT_DAY = "not_event_day"
    NOT_FOUND = "not_found"


MESSAGES = {
    ScanResult.OK: _l("Berhasil hadir"),
    ScanResult.ALREADY: _l("Sudah tercatat hadir hari ini"),
    ScanResult.WRONG_EVENT: _l("Bukan tiket kegiatan ini"),
    ScanResult.CANCELLED: _l("Pendaftaran dibatalkan"),
    ScanResult.NOT_CONFIRMED: _l("Belum terkonfirmasi (daftar tunggu)"),
    ScanResult.NOT_EVENT_DAY: _l("Hari ini bukan hari kegiatan"),
    ScanResult.NOT_FOUND: _l("Kode tidak dikenal"),
}


@dataclass
class Scan:
    """What a scan found. ``registration`` is set when it belongs to this event."""

    result: ScanResult
    registration: Registration | None = None
    checkin: Checkin | None = None
    day: date | None = None
    other_event: Event | None = None  # wrong_event: the event it belongs to, if visible

    @property
    def message(self) -> str:
        return str(MESSAGES[self.result])


# --- who may check in ----------------------------------------------------------


_ASSIGNED = (
    db.select(EventStaff.__table__.c.id)
    .where(EventStaff.__table__.c.event_id == db.bindparam("event_id"),
           EventStaff.__table__.c.user_id == db.bindparam("user_id"))
)


def is_assigned(user: User, event_id: int) -> bool:
    # A plain Core statement: every scan asks this, and it needs no ORM objects.
    return db.session.connection().execute(
        _ASSIGNED, {"event_id": event_id, "user_id": user.id}).first() is not None


def can_check_in(user: User | None, event: Event) -> bool:
    """Admins, the event's organizer, and staff assigned to the event."""
    if user is None or not user.is_authenticated or not user.active:
        return False
    if can_manage(user, event):
        return True
    return user.role == Role.STAFF and is_assigned(user, event.id)


def door_event(user: User | None, event_id: int) -> Event:
    """The event whose door ``user`` wants to run, with its days loaded (a scan needs
    today's). Raises NotFound when it does not exist or is a draft the user may not see,
    NotAllowed when they see it but are neither an admin, its organizer nor staff
    assigned to it. The door page and the API answer from this one rule."""
    event = db.session.get(Event, event_id, options=[joinedload(Event.days)])
    if event is None or not (can_view(user, event) or can_check_in(user, event)):
        raise NotFound(str(_l("Kegiatan tidak ditemukan.")))
    if not can_check_in(user, event):
        raise NotAllowed(str(_l("Anda tidak ditugaskan untuk presensi kegiatan ini.")))
    return event


def checkin_events(user: User) -> list[Event]:
    """The events a user may run the door for, soonest first."""
    query = db.select(Event).order_by(Event.starts_at.desc())
    if user.role == Role.ADMIN:
        pass
    elif user.role == Role.ORGANIZER:
        query = query.where(Event.owner_id == user.id)
    elif user.role == Role.STAFF:
        query = query.join(EventStaff, EventStaff.event_id == Event.id).where(
            EventStaff.user_id == user.id)
    else:
        return []
    return list(db.session.scalars(query))


def assign_staff(event: Event, user: User, actor: User) -> EventStaff:
    """Assign a staff user to an event (idempotent). Raises DomainError for a non-staff user."""
    if user.role != Role.STAFF or not user.active:
        raise DomainError(
            str(_l("Hanya pengguna aktif dengan peran petugas yang dapat ditugaskan.")),
            code="not_staff")
    existing = db.session.scalar(db.select(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.user_id == user.id))
    if existing is not None:
        return existing
    row = EventStaff(event_id=event.id, user_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "staff.assign", event, user_id=user.id)
    return row


def unassign_staff(event: Event, user_id: int, actor: User) -> None:
    row = db.session.scalar(db.select(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.user_id == user_id))
    if row is not None:
        db.session.delete(row)
        audit.record(actor, "staff.unassign", event, user_id=user_id)


def assigned_staff(event_id: int) -> list[User]:
    return list(db.session.scalars(
        db.select(User).join(EventStaff, EventStaff.user_id == User.id)
        .where(EventStaff.event_id == event_id).order_by(User.name)))


def assignable_staff(event_id: int) -> list[User]:
    """Active staff users not yet assigned to the event (the choices for assign_staff)."""
    assigned = db.select(EventStaff.user_id).where(EventStaff.event_id == event_id)
    return list(db.session.scalars(
        db.select(User).where(User.role == Role.STAFF, User.active.is_(True),
                              User.id.not_in(assigned)).order_by(User.name)))


# --- scanning --------------------------------------------------------------------


def clean_code(raw: str | None) -> str | None:
    """The check-in code in scanned text, or None when it cannot be one.

    Handheld scanners add whitespace or a trailing Enter; a code is 16-64 URL-safe
    characters, so anything longer, with control characters or other symbols (another
    site's URL, say) is not a code and needs no database lookup.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text or len(text) > CODE_MAX or not CODE_PATTERN.fullmatch(text):
        return None
    return text


def event_day_for(event: Event, now: datetime) -> EventDay | None:
    today = to_wib(now).date()
    return next((d for d in event.days if d.date == today), None)


def scan(event: Event, raw_code: str | None, *, actor: User, now: datetime,
         method: CheckinMethod = CheckinMethod.CAMERA, nonce: str | None = None) -> Scan:
    """Check the person with this code in for today's event day.

    The caller has checked ``can_check_in``. Commits; never raises for a bad code:
    every outcome is a Scan result.

    The door's hottest path. The registration is read with the request's other reads;
    the write transaction holds SQLite's write lock for one statement only (an INSERT
    that takes effect only while the registration is still confirmed, and does nothing
    when the person is in already), so that four workers scanning at once do not queue
    behind each other's reads. ``event.days`` should be loaded already.
    """
    code = clean_code(raw_code)
    if code is None:
        return Scan(ScanResult.NOT_FOUND)  # no lookup, no lock for junk input
    reg = db.session.scalar(
        db.select(Registration).options(joinedload(Registration.unit))
        .where(Registration.check_in_code == code))
    if reg is None:
        return Scan(ScanResult.NOT_FOUND)
    if reg.event_id != event.id:
        visible = can_view(actor, reg.event) or can_check_in(actor, reg.event)
        return Scan(ScanResult.WRONG_EVENT, other_event=reg.event if visible else None)
    return _check_in(event, reg, actor=actor, now=now, method=method,
                     nonce=nonce[:64] if nonce else None)


def check_in_registration(event: Event, registration_id: int, *, actor: User, now: datetime,
                          method: CheckinMethod = CheckinMethod.SEARCH) -> Scan:
    """Check in a registration found by search (no code). Unknown or other event: not_found.
    Commits."""
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id:
        return Scan(ScanResult.NOT_FOUND)
    return _check_in(event, reg, actor=actor, now=now, method=method, nonce=None)


def _status_outcome(reg: Registration) -> Scan | None:
    if reg.status == RegistrationStatus.CANCELLED:
        return Scan(ScanResult.CANCELLED, reg)
    if reg.status != RegistrationStatus.CONFIRMED:
        return Scan(ScanResult.NOT_CONFIRMED, reg)
    return None


def _check_in(event: Event, reg: Registration, *, actor: User, now: datetime,
              method: CheckinMethod, nonce: str | None) -> Scan:
    refused = _status_outcome(reg)
    if refused is not None:
        return refused
    day = event_day_for(event, now)
    if day is None:
        return Scan(ScanResult.NOT_EVENT_DAY, reg)
    values = {"registration_id": reg.id, "event_day_id": day.id, "event_id": event.id,
              "scanned_by_id": actor.id, "method": method, "checked_in_at": now,
              "nonce": nonce}

    def record() -> tuple[int | None, Checkin | None]:
        """(new row id, None), or (None, the row that answers instead), or (None, None)
        when the registration stopped being confirmed a moment ago."""
        new_id = _insert_if_confirmed(values)
        if new_id is not None:
            return new_id, None
        if nonce:
            # A retry of a recorded request (same nonce) answers with its row; a client
            # that reused a nonce for another scan is ignored, and the scan counts.
            earlier = db.session.scalar(db.select(Checkin).where(Checkin.nonce == nonce))
            if earlier is not None and earlier.registration_id == reg.id:
                return None, earlier
            if earlier is not None:
                new_id = _insert_if_confirmed({**values, "nonce": None})
                if new_id is not None:
                    return new_id, None
        # The unique constraint said no: this person is in already today (another door,
        # or a scan a moment ago): the existing row answers.
        return None, db.session.scalar(db.select(Checkin).where(
            Checkin.registration_id == reg.id, Checkin.event_day_id == day.id))

    with _answers_from_loaded_rows():
        new_id, row = run_in_write_transaction(record)
    if new_id is not None:
        # The answer needs the row, not a reload of it: a detached copy of the insert.
        row = Checkin(id=new_id, **values)
        set_committed_value(row, "scanned_by", actor)
        set_committed_value(row, "registration", reg)
        set_committed_value(row, "day", day)
        return Scan(ScanResult.OK, reg, row, day.date)
    if row is None:  # cancelled or moved to the waiting list while this scan was read
        db.session.refresh(reg)
        return _status_outcome(reg) or Scan(ScanResult.NOT_CONFIRMED, reg)
    if row.nonce is not None and row.nonce == nonce:
        return Scan(ScanResult.OK, reg, row, day.date)
    return Scan(ScanResult.ALREADY, reg, row, day.date)


@contextmanager
def _answers_from_loaded_rows():
    """Keep what the request loaded (event, user, registration) through the scan's
    commit: the answer is built from them, and reloading each costs a SELECT."""
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


# A row only while the registration is confirmed, and only if the unique constraints (one
# per registration per day; the nonce) allow it; the same SQL on SQLite and PostgreSQL.
# Written as text because SQLAlchemy cannot cache the dialects' ON CONFLICT constructs
# (it would compile the statement again on every scan).
_INSERT_IF_CONFIRMED = db.text(
    "INSERT INTO checkin (registration_id, event_day_id, event_id, scanned_by_id, method,"
    " checked_in_at, nonce)"
    " SELECT registration.id, CAST(:event_day_id AS INTEGER), CAST(:event_id AS INTEGER),"
    " CAST(:scanned_by_id AS INTEGER), :method, :checked_in_at, :nonce"
    " FROM registration"
    " WHERE registration.id = :registration_id AND registration.status = :confirmed"
    " ON CONFLICT DO NOTHING RETURNING id"
).bindparams(db.bindparam("checked_in_at", type_=UTCDateTime()),
             db.bindparam("confirmed", RegistrationStatus.CONFIRMED.value))


def _insert_if_confirmed(values: dict) -> int | None:
    params = {**values, "method": str(values["method"])}
    return db.session.connection().execute(_INSERT_IF_CONFIRMED, params).scalar()


def undo(checkin_id: int, *, event: Event, actor: User) -> Checkin | None:
    """Remove a mistaken check-in of ``event``; the audit log keeps what it was.
    Returns the removed row, or None when there is none (caller answers 404)."""
    row = db.session.get(Checkin, checkin_id)
    if row is None or row.event_id != event.id:
        return None
    audit.record(actor, "checkin.undo", row, registration_id=row.registration_id,
                 day=row.day.date.isoformat(), checked_in_at=row.checked_in_at.isoformat(),
                 scanned_by_id=row.scanned_by_id, method=str(row.method))
    db.session.delete(row)
    db.session.flush()
    return row


# --- looking up --------------------------------------------------------------------


def search(event: Event, query: str, limit: int = 20) -> list[Registration]:
    """Registrations of the event matching a name, NIP (spaces ignored) or unit."""
    text = (query or "").strip()[:100]
    if len(text) < 2:
        return []
    like = f"%{text.lower()}%"
    digits = re.sub(r"\D", "", text)
    conditions = [func.lower(Registration.name).like(like),
                  func.lower(Registration.institution).like(like),
                  func.lower(Unit.name).like(like), func.lower(Unit.short_name).like(like)]
    if len(digits) >= 4:
        conditions.append(Registration.nip.like(f"%{digits}%"))
    return list(db.session.scalars(
        db.select(Registration).outerjoin(Unit, Registration.unit_id == Unit.id)
        .where(Registration.event_id == event.id, or_(*conditions))
        .order_by(Registration.name).limit(limit)))


def checked_in_ids(event_id: int, day: EventDay | None) -> set[int]:
    if day is None:
        return set()
    return set(db.session.scalars(db.select(Checkin.registration_id).where(
        Checkin.event_day_id == day.id)))


def day_checkins(day: EventDay | None, registration_ids: list[int]) -> dict[int, Checkin]:
    """The check-ins of ``day`` for these registrations, by registration id."""
    if day is None or not registration_ids:
        return {}
    return {c.registration_id: c for c in db.session.scalars(db.select(Checkin).where(
        Checkin.event_day_id == day.id, Checkin.registration_id.in_(registration_ids)))}


def recent(event_id: int, limit: int = 20) -> list[Checkin]:
    return list(db.session.scalars(
        db.select(Checkin).where(Checkin.event_id == event_id)
        .order_by(Checkin.checked_in_at.desc(), Checkin.id.desc()).limit(limit)))


def day_stats(event: Event, day: EventDay | None) -> dict:
    """Today's counters: checked in / confirmed participants, overall and per unit."""
    confirmed = dict(db.session.execute(
        db.select(Registration.unit_id, func.count(Registration.id))
        .where(Registration.event_id == event.id,
               Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Registration.unit_id)).all())
    present: dict = {}
    if day is not None:
        present = dict(db.session.execute(
            db.select(Registration.unit_id, func.count(Checkin.id))
            .join(Registration, Checkin.registration_id == Registration.id)
            .where(Checkin.event_day_id == day.id)
            .group_by(Registration.unit_id)).all())
    units = {u.id: u for u in db.session.scalars(
        db.select(Unit).where(Unit.id.in_([k for k in confirmed if k is not None])))}
    rows = []
    for unit_id, n in confirmed.items():
        unit = units.get(unit_id)
        rows.append({"unit_id": unit_id,
                     "unit": unit.short_name if unit else str(_l("Instansi lain")),
                     "confirmed": n, "checked_in": present.get(unit_id, 0)})
    rows.sort(key=lambda r: (r["unit_id"] is None, r["unit"].lower()))
    return {
        "day": day.date.isoformat() if day else None,
        "confirmed": sum(confirmed.values()),
        "checked_in": sum(present.values()),
        "units": rows,
    }


# --- attendance reports (additive helpers for the JSON API) --------------------------


def people_checked_in(event_ids: list[int]) -> dict[int, int]:
    """Per event: how many different registrations checked in on at least one day.

    One grouped query for any number of events; every requested id gets an entry."""
    result = dict.fromkeys(event_ids, 0)
    if not event_ids:
        return result
    rows = db.session.execute(
        db.select(Checkin.event_id, func.count(func.distinct(Checkin.registration_id)))
        .where(Checkin.event_id.in_(event_ids))
        .group_by(Checkin.event_id))
    result.update(dict(rows.all()))
    return result
