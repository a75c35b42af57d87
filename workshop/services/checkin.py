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

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_
from sqlalchemy.orm import joinedload

from workshop.extensions import request_connection
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
from workshop.services.locking import run_statements
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


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class EventRef:
    id: int
    title: str


@dataclass(frozen=True)
class DoorRegistration:
    """What the door sees of a registration (no contact details, no secrets): one Core
    row, with its unit's names."""

    id: int
    event_id: int
    name: str
    position: str
    unit_id: int | None
    institution: str | None
    unit_name: str | None
    unit_short_name: str | None
    role: str
    status: str

    @property
    def affiliation(self) -> str:
        """The unit's name or the outside institution (as Registration.affiliation)."""
        return self.unit_name if self.unit_id is not None else (self.institution or "")


@dataclass(frozen=True)
class DoorCheckin:
    """A check-in as the door answers it: when, how, and by whom."""

    id: int
    checked_in_at: datetime
    method: str
    nonce: str | None
    scanned_by: Person | None


@dataclass(frozen=True)
class Door:
    """An event's door as a scan needs it, read in one Core statement: the event's owner
    and status (the permission rules read those, as from an Event), today's event day,
    whether the scanning user is assigned to it and, when opened for a scanned code, the
    registration holding that code (of whichever event)."""

    id: int
    title: str
    owner_id: int | None
    status: str
    day_id: int | None
    day: date | None
    assigned: bool
    code: str | None = None  # the scanned code read with the door, and its registration
    ticket: DoorRegistration | None = None

    @property
    def event_id(self) -> int:
        return self.id


@dataclass
class Scan:
    """What a scan found. ``registration`` is set when it belongs to this event."""

    result: ScanResult
    registration: DoorRegistration | None = None
    checkin: DoorCheckin | None = None
    day: date | None = None
    other_event: EventRef | None = None  # wrong_event: the event it belongs to, if visible

    @property
    def message(self) -> str:
        """The outcome in the request's language (looked up once per language)."""
        key = (str(get_locale()), self.result)
        text = _MESSAGE_TEXT.get(key)
        if text is None:
            text = _MESSAGE_TEXT[key] = str(MESSAGES[self.result])
        return text


_MESSAGE_TEXT: dict[tuple[str, ScanResult], str] = {}


# --- who may check in ----------------------------------------------------------


_E, _D, _S = Event.__table__, EventDay.__table__, EventStaff.__table__
_R, _U = Registration.__table__, Unit.__table__
_DOOR_COLUMNS = (
    _E.c.id,
    _E.c.title,
    _E.c.owner_id,
    _E.c.status,
    _D.c.id.label("day_id"),
    _D.c.date.label("day"),
    _S.c.id.label("assignment_id"),
)
_DOOR_TABLES = _E.outerjoin(
    _D, and_(_D.c.event_id == _E.c.id, _D.c.date == db.bindparam("today"))
).outerjoin(_S, and_(_S.c.event_id == _E.c.id, _S.c.user_id == db.bindparam("user_id")))
_DOOR = (
    db.select(*_DOOR_COLUMNS).select_from(_DOOR_TABLES).where(_E.c.id == db.bindparam("event_id"))
)
# DoorRegistration's fields, in order.
_TICKET_COLUMNS = (
    _R.c.id,
    _R.c.event_id,
    _R.c.name,
    _R.c.position,
    _R.c.unit_id,
    _R.c.institution,
    _U.c.name,
    _U.c.short_name,
    _R.c.role,
    _R.c.status,
)
_TICKET_TABLES = _R.outerjoin(_U, _U.c.id == _R.c.unit_id)
_REGISTRATION_BY_CODE = (
    db.select(*_TICKET_COLUMNS)
    .select_from(_TICKET_TABLES)
    .where(_R.c.check_in_code == db.bindparam("code"))
)
_REGISTRATION_BY_ID = (
    db.select(*_TICKET_COLUMNS).select_from(_TICKET_TABLES).where(_R.c.id == db.bindparam("id"))
)
# The door and the registration holding the scanned code (of any event), in one row.
_DOOR_AND_TICKET = (
    db.select(*_DOOR_COLUMNS, *(c.label(f"ticket_{n}") for n, c in enumerate(_TICKET_COLUMNS)))
    .select_from(
        _DOOR_TABLES.outerjoin(_R, _R.c.check_in_code == db.bindparam("code")).outerjoin(
            _U, _U.c.id == _R.c.unit_id
        )
    )
    .where(_E.c.id == db.bindparam("event_id"))
)


def _read_door(user, event_id: int, now: datetime | None, code: str | None = None) -> Door | None:
    """The door of ``event_id`` for ``user``; today's event day when ``now`` is given."""
    params = {
        "event_id": event_id,
        "today": to_wib(now).date() if now is not None else None,
        "user_id": user.id if user is not None and user.is_authenticated else None,
    }
    if code is not None:
        params["code"] = code
    row = request_connection().execute(_DOOR if code is None else _DOOR_AND_TICKET, params).first()
    if row is None:
        return None
    ticket = None
    if code is not None and row.ticket_0 is not None:
        ticket = DoorRegistration(*row[len(_DOOR_COLUMNS) :])
    return Door(
        row.id,
        row.title,
        row.owner_id,
        row.status,
        row.day_id,
        row.day,
        row.assignment_id is not None,
        code,
        ticket,
    )


def may_check_in(user, door: Door) -> bool:
    """Admins, the event's organizer, and staff assigned to the event. ``user`` is a User
    or anything with the same id, role, active and is_authenticated (the API's token
    identity)."""
    if user is None or not user.is_authenticated or not user.active:
        return False
    return can_manage(user, door) or (user.role == Role.STAFF and door.assigned)


def _may_see(user, door: Door) -> bool:
    """Whether the door's event is there for ``user`` at all: they may run it, or see it
    (a draft only to who manages it)."""
    return may_check_in(user, door) or can_view(user, door)


def open_door(
    user, event_id: int, now: datetime | None = None, raw_code: str | None = None
) -> Door:
    """The door ``user`` wants to run, in one Core statement: the event's owner and
    status, today's event day (with ``now``), the staff assignment and, given the
    scanned text, the registration holding that code (``Door.ticket``, for ``scan``).
    Raises NotFound when the event does not exist or is a draft the user may not see,
    NotAllowed when they see it but are neither an admin, its organizer nor staff
    assigned to it. The one rule for the door's pages, its scans and the API."""
    door = _read_door(user, event_id, now, clean_code(raw_code))
    if door is None or not _may_see(user, door):
        raise NotFound(str(_l("Kegiatan tidak ditemukan.")))
    if not may_check_in(user, door):
        raise NotAllowed(str(_l("Anda tidak ditugaskan untuk presensi kegiatan ini.")))
    return door


def door_event(user: User | None, event_id: int) -> Event:
    """The Event (with its days) whose door ``user`` may run, for the pages: NotFound /
    NotAllowed by open_door's rule."""
    open_door(user, event_id)
    return db.session.get(Event, event_id, options=[joinedload(Event.days)])


def checkin_events(user: User) -> list[Event]:
    """The events a user may run the door for, soonest first."""
    query = db.select(Event).order_by(Event.starts_at.desc())
    if user.role == Role.ADMIN:
        pass
    elif user.role == Role.ORGANIZER:
        query = query.where(Event.owner_id == user.id)
    elif user.role == Role.STAFF:
        query = query.join(EventStaff, EventStaff.event_id == Event.id).where(
            EventStaff.user_id == user.id
        )
    else:
        return []
    return list(db.session.scalars(query))


def assign_staff(event: Event, user: User, actor: User) -> EventStaff:
    """Assign a staff user to an event (idempotent). Raises DomainError for a non-staff user."""
    if user.role != Role.STAFF or not user.active:
        raise DomainError(
            str(_l("Hanya pengguna aktif dengan peran petugas yang dapat ditugaskan.")),
            code="not_staff",
        )
    existing = db.session.scalar(
        db.select(EventStaff).where(EventStaff.event_id == event.id, EventStaff.user_id == user.id)
    )
    if existing is not None:
        return existing
    row = EventStaff(event_id=event.id, user_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "staff.assign", event, user_id=user.id)
    return row


def unassign_staff(event: Event, user_id: int, actor: User) -> None:
    row = db.session.scalar(
        db.select(EventStaff).where(EventStaff.event_id == event.id, EventStaff.user_id == user_id)
    )
    if row is not None:
        db.session.delete(row)
        audit.record(actor, "staff.unassign", event, user_id=user_id)


def assigned_staff(event_id: int) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User)
            .join(EventStaff, EventStaff.user_id == User.id)
            .where(EventStaff.event_id == event_id)
            .order_by(User.name)
        )
    )


def assignable_staff(event_id: int) -> list[User]:
    """Active staff users not yet assigned to the event (the choices for assign_staff)."""
    assigned = db.select(EventStaff.user_id).where(EventStaff.event_id == event_id)
    return list(
        db.session.scalars(
            db.select(User)
            .where(User.role == Role.STAFF, User.active.is_(True), User.id.not_in(assigned))
            .order_by(User.name)
        )
    )


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


def _door_registration(statement, **params) -> DoorRegistration | None:
    row = request_connection().execute(statement, params).first()
    return DoorRegistration(*row) if row is not None else None


def scan(
    door: Door,
    raw_code: str | None,
    *,
    actor,
    now: datetime,
    method: CheckinMethod = CheckinMethod.CAMERA,
    nonce: str | None = None,
) -> Scan:
    """Check the person with this code in for today's event day.

    ``door`` comes from open_door (which checked that ``actor`` may run it); ``actor``
    is a User or the API's token identity. Commits; never raises for a bad code: every
    outcome is a Scan result.

    The door's hottest path, in Core statements and plain records (no ORM objects to
    build): the registration is read with the door; the write is one statement (an
    INSERT that takes effect only while the registration is still confirmed, and does
    nothing when the person is in already), which on SQLite runs as its own transaction
    (``locking.run_statements``), so that four workers scanning at once hold the one
    write lock only while each INSERT executes.
    """
    code = clean_code(raw_code)
    if code is None:
        return Scan(ScanResult.NOT_FOUND)  # no lookup, no lock for junk input
    # Read with the door when it was opened for this code.
    reg = door.ticket if code == door.code else _door_registration(_REGISTRATION_BY_CODE, code=code)
    if reg is None:
        return Scan(ScanResult.NOT_FOUND)
    if reg.event_id != door.id:
        return Scan(ScanResult.WRONG_EVENT, other_event=_visible_event(actor, reg.event_id))
    return _check_in(
        door, reg, actor=actor, now=now, method=method, nonce=nonce[:64] if nonce else None
    )


def _visible_event(actor, event_id: int) -> EventRef | None:
    """The other event a ticket belongs to, when ``actor`` may see it or run its door."""
    other = _read_door(actor, event_id, None)
    if other is None:
        return None
    return EventRef(other.id, other.title) if _may_see(actor, other) else None


def check_in_registration(
    door: Door,
    registration_id: int,
    *,
    actor,
    now: datetime,
    method: CheckinMethod = CheckinMethod.SEARCH,
) -> Scan:
    """Check in a registration found by search (no code). Unknown or other event: not_found.
    Commits."""
    reg = _door_registration(_REGISTRATION_BY_ID, id=registration_id)
    if reg is None or reg.event_id != door.id:
        return Scan(ScanResult.NOT_FOUND)
    return _check_in(door, reg, actor=actor, now=now, method=method, nonce=None)


def _status_outcome(reg: DoorRegistration) -> Scan | None:
    if reg.status == RegistrationStatus.CANCELLED:
        return Scan(ScanResult.CANCELLED, reg)
    if reg.status != RegistrationStatus.CONFIRMED:
        return Scan(ScanResult.NOT_CONFIRMED, reg)
    return None


_C, _USER = Checkin.__table__, User.__table__
_DOOR_CHECKIN = db.select(
    _C.c.id,
    _C.c.checked_in_at,
    _C.c.method,
    _C.c.nonce,
    _C.c.registration_id,
    _USER.c.id.label("by_id"),
    _USER.c.name.label("by_name"),
).select_from(_C.outerjoin(_USER, _USER.c.id == _C.c.scanned_by_id))
_CHECKIN_BY_NONCE = _DOOR_CHECKIN.where(_C.c.nonce == db.bindparam("nonce"))
_CHECKIN_OF_DAY = _DOOR_CHECKIN.where(
    _C.c.registration_id == db.bindparam("registration_id"),
    _C.c.event_day_id == db.bindparam("event_day_id"),
)


def _door_checkin(conn, statement, **params) -> tuple[DoorCheckin, int] | None:
    """The check-in and its registration id."""
    row = conn.execute(statement, params).first()
    if row is None:
        return None
    by = Person(row.by_id, row.by_name) if row.by_id is not None else None
    return DoorCheckin(row.id, row.checked_in_at, row.method, row.nonce, by), row.registration_id


def _check_in(
    door: Door,
    reg: DoorRegistration,
    *,
    actor,
    now: datetime,
    method: CheckinMethod,
    nonce: str | None,
) -> Scan:
    refused = _status_outcome(reg)
    if refused is not None:
        return refused
    if door.day_id is None:
        return Scan(ScanResult.NOT_EVENT_DAY, reg)
    by = Person(actor.id, actor.name)
    values = {
        "registration_id": reg.id,
        "event_day_id": door.day_id,
        "event_id": door.id,
        "scanned_by_id": actor.id,
        "method": str(method),
        "checked_in_at": now,
        "nonce": nonce,
    }

    def record(conn) -> tuple[int | None, DoorCheckin | None]:
        """(new row id, None), or (None, the row that answers instead), or (None, None)
        when the registration is not confirmed (any more)."""
        for _attempt in range(2):  # again if the row that said no was undone meanwhile
            new_id = _insert_if_confirmed(conn, values)
            if new_id is not None:
                return new_id, None
            if nonce:
                # A retry of a recorded request (same nonce) answers with its row; a
                # client that reused a nonce for another scan is ignored, and the scan
                # counts.
                earlier = _door_checkin(conn, _CHECKIN_BY_NONCE, nonce=nonce)
                if earlier is not None and earlier[1] == reg.id:
                    return None, earlier[0]
                if earlier is not None:
                    new_id = _insert_if_confirmed(conn, {**values, "nonce": None})
                    if new_id is not None:
                        return new_id, None
            # The unique constraint said no: this person is in already today (another
            # door, or a scan a moment ago): the existing row answers. None: no such row,
            # so the registration stopped being confirmed (or the row was just undone).
            existing = _door_checkin(
                conn, _CHECKIN_OF_DAY, registration_id=reg.id, event_day_id=door.day_id
            )
            if existing is not None:
                return None, existing[0]
        return None, None

    with _answers_from_loaded_rows():
        new_id, row = run_statements(record)
    if new_id is not None:
        row = DoorCheckin(new_id, now, str(method), nonce, by)
        return Scan(ScanResult.OK, reg, row, door.day)
    if row is None:  # cancelled or moved to the waiting list while this scan was read
        reg = _door_registration(_REGISTRATION_BY_ID, id=reg.id)
        return _status_outcome(reg) or Scan(ScanResult.NOT_CONFIRMED, reg)
    if row.nonce is not None and row.nonce == nonce:
        return Scan(ScanResult.OK, reg, row, door.day)
    return Scan(ScanResult.ALREADY, reg, row, door.day)


@contextmanager
def _answers_from_loaded_rows():
    """Keep what the request loaded (the page's user) through the scan's commit: reading
    it again afterwards would cost a SELECT. (A request without a Session, the API's
    scans, has nothing loaded to keep.)"""
    if not db.session.registry.has():
        yield
        return
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
).bindparams(
    db.bindparam("checked_in_at", type_=UTCDateTime()),
    db.bindparam("confirmed", RegistrationStatus.CONFIRMED.value),
)


def _insert_if_confirmed(conn, values: dict) -> int | None:
    return conn.execute(_INSERT_IF_CONFIRMED, values).scalar()


def undo(checkin_id: int, *, event: Event, actor: User) -> Checkin | None:
    """Remove a mistaken check-in of ``event``; the audit log keeps what it was.
    Returns the removed row, or None when there is none (caller answers 404)."""
    row = db.session.get(Checkin, checkin_id)
    if row is None or row.event_id != event.id:
        return None
    audit.record(
        actor,
        "checkin.undo",
        row,
        registration_id=row.registration_id,
        day=row.day.date.isoformat(),
        checked_in_at=row.checked_in_at.isoformat(),
        scanned_by_id=row.scanned_by_id,
        method=str(row.method),
    )
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
    conditions = [
        func.lower(Registration.name).like(like),
        func.lower(Registration.institution).like(like),
        func.lower(Unit.name).like(like),
        func.lower(Unit.short_name).like(like),
    ]
    if len(digits) >= 4:
        conditions.append(Registration.nip.like(f"%{digits}%"))
    return list(
        db.session.scalars(
            db.select(Registration)
            .outerjoin(Unit, Registration.unit_id == Unit.id)
            .where(Registration.event_id == event.id, or_(*conditions))
            .order_by(Registration.name)
            .limit(limit)
        )
    )


def checked_in_ids(event_id: int, day: EventDay | None) -> set[int]:
    if day is None:
        return set()
    return set(
        db.session.scalars(db.select(Checkin.registration_id).where(Checkin.event_day_id == day.id))
    )


def day_checkins(day: EventDay | None, registration_ids: list[int]) -> dict[int, Checkin]:
    """The check-ins of ``day`` for these registrations, by registration id."""
    if day is None or not registration_ids:
        return {}
    return {
        c.registration_id: c
        for c in db.session.scalars(
            db.select(Checkin).where(
                Checkin.event_day_id == day.id, Checkin.registration_id.in_(registration_ids)
            )
        )
    }


def recent(event_id: int, limit: int = 20) -> list[Checkin]:
    return list(
        db.session.scalars(
            db.select(Checkin)
            .where(Checkin.event_id == event_id)
            .order_by(Checkin.checked_in_at.desc(), Checkin.id.desc())
            .limit(limit)
        )
    )


def day_stats(event: Event, day: EventDay | None) -> dict:
    """Today's counters: checked in / confirmed participants, overall and per unit."""
    confirmed = dict(
        db.session.execute(
            db.select(Registration.unit_id, func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .group_by(Registration.unit_id)
        ).all()
    )
    present: dict = {}
    if day is not None:
        present = dict(
            db.session.execute(
                db.select(Registration.unit_id, func.count(Checkin.id))
                .join(Registration, Checkin.registration_id == Registration.id)
                .where(Checkin.event_day_id == day.id)
                .group_by(Registration.unit_id)
            ).all()
        )
    units = {
        u.id: u
        for u in db.session.scalars(
            db.select(Unit).where(Unit.id.in_([k for k in confirmed if k is not None]))
        )
    }
    rows = []
    for unit_id, n in confirmed.items():
        unit = units.get(unit_id)
        rows.append(
            {
                "unit_id": unit_id,
                "unit": unit.short_name if unit else str(_l("Instansi lain")),
                "confirmed": n,
                "checked_in": present.get(unit_id, 0),
            }
        )
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
        .group_by(Checkin.event_id)
    )
    result.update(dict(rows.all()))
    return result
