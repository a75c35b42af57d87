"""Check-in at the door: one scan, one answer; exactly one check-in per person per day.

The database's unique constraint (registration, day) is the guard: two doors scanning the
same code at the same moment both try to insert, one wins and the other is told "already
checked in". A client may send a ``nonce`` so that a retried request is answered with
the original check-in instead of being counted again.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError

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
from workshop.services import audit
from workshop.services.errors import DomainError
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


def is_assigned(user: User, event_id: int) -> bool:
    return db.session.scalar(
        db.select(EventStaff.id).where(EventStaff.event_id == event_id,
                                       EventStaff.user_id == user.id)
    ) is not None


def can_check_in(user: User | None, event: Event) -> bool:
    """Admins, the event's organizer, and staff assigned to the event."""
    if user is None or not user.is_authenticated or not user.active:
        return False
    if can_manage(user, event):
        return True
    return user.role == Role.STAFF and is_assigned(user, event.id)


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


def is_known_code(raw: str | None) -> bool:
    """True when the scanned text is the check-in code of some registration (any event).

    Lets the door's rate limit count only unknown codes: a busy door is never slowed.
    """
    code = clean_code(raw)
    return code is not None and db.session.scalar(
        db.select(Registration.id).where(Registration.check_in_code == code)) is not None


def event_day_for(event: Event, now: datetime) -> EventDay | None:
    today = to_wib(now).date()
    return next((d for d in event.days if d.date == today), None)


def scan(event: Event, raw_code: str | None, *, actor: User, now: datetime,
         method: CheckinMethod = CheckinMethod.CAMERA, nonce: str | None = None) -> Scan:
    """Check the person with this code in for today's event day.

    The caller has checked ``can_check_in``. Runs in its own write transaction and
    commits; never raises for a bad code: every outcome is a Scan result.
    """
    code = clean_code(raw_code)
    nonce = nonce[:64] if nonce else None
    if code is None and nonce is None:
        return Scan(ScanResult.NOT_FOUND)  # no lookup, no lock for junk input
    event_id, actor_id = event.id, actor.id

    def work() -> Scan:
        event_ = db.session.get(Event, event_id)
        actor_ = db.session.get(User, actor_id)
        use_nonce = nonce
        if nonce:
            earlier = db.session.scalar(db.select(Checkin).where(Checkin.nonce == nonce))
            if earlier is not None and earlier.event_id == event_id:
                return Scan(ScanResult.OK, earlier.registration, earlier, earlier.day.date)
            if earlier is not None:  # a client reused a nonce for another event: ignore it
                use_nonce = None
        reg = None
        if code is not None:
            reg = db.session.scalar(
                db.select(Registration).where(Registration.check_in_code == code))
        if reg is None:
            return Scan(ScanResult.NOT_FOUND)
        if reg.event_id != event_id:
            visible = can_view(actor_, reg.event) or can_check_in(actor_, reg.event)
            return Scan(ScanResult.WRONG_EVENT, other_event=reg.event if visible else None)
        return _check_in(event_, reg, actor=actor_, now=now, method=method, nonce=use_nonce)

    return run_in_write_transaction(work)


def check_in_registration(event: Event, registration_id: int, *, actor: User, now: datetime,
                          method: CheckinMethod = CheckinMethod.SEARCH) -> Scan:
    """Check in a registration found by search (no code). Unknown or other event: not_found.
    Own write transaction, commits."""
    event_id, actor_id = event.id, actor.id

    def work() -> Scan:
        reg = db.session.get(Registration, registration_id)
        if reg is None or reg.event_id != event_id:
            return Scan(ScanResult.NOT_FOUND)
        return _check_in(db.session.get(Event, event_id), reg,
                         actor=db.session.get(User, actor_id), now=now, method=method,
                         nonce=None)

    return run_in_write_transaction(work)


def _check_in(event, reg, *, actor, now, method, nonce) -> Scan:
    if reg.status == RegistrationStatus.CANCELLED:
        return Scan(ScanResult.CANCELLED, reg)
    if reg.status != RegistrationStatus.CONFIRMED:
        return Scan(ScanResult.NOT_CONFIRMED, reg)
    day = event_day_for(event, now)
    if day is None:
        return Scan(ScanResult.NOT_EVENT_DAY, reg)
    row = Checkin(registration_id=reg.id, event_day_id=day.id, event_id=event.id,
                  scanned_by_id=actor.id, method=method, checked_in_at=now, nonce=nonce)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # Lost a race (another door, or a retry of this request): the winner's row answers.
        if nonce:
            earlier = db.session.scalar(db.select(Checkin).where(Checkin.nonce == nonce))
            if earlier is not None:
                return Scan(ScanResult.OK, reg, earlier, day.date)
        existing = db.session.scalar(db.select(Checkin).where(
            Checkin.registration_id == reg.id, Checkin.event_day_id == day.id))
        return Scan(ScanResult.ALREADY, reg, existing, day.date)
    return Scan(ScanResult.OK, reg, row, day.date)


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


def attendance(event: Event) -> dict:
    """The event's attendance over all its days: totals per day and rows per unit.

    ``days``: every event day with the number of check-ins recorded on it. ``units``: one
    row per work unit (and one, ``unit_id`` None, for outside institutions) that has
    confirmed registrations or check-ins, with ``confirmed`` and ``checked_in`` per day.
    ``confirmed`` counts confirmed registrations of every role; check-ins are counted
    whatever the registration's status is now. Four queries, however large the event."""
    days = list(event.days)
    confirmed = dict(db.session.execute(
        db.select(Registration.unit_id, func.count(Registration.id))
        .where(Registration.event_id == event.id,
               Registration.status == RegistrationStatus.CONFIRMED)
        .group_by(Registration.unit_id)).all())
    present: dict[tuple[int | None, int], int] = {
        (unit_id, day_id): n for unit_id, day_id, n in db.session.execute(
            db.select(Registration.unit_id, Checkin.event_day_id, func.count(Checkin.id))
            .join(Registration, Checkin.registration_id == Registration.id)
            .where(Checkin.event_id == event.id)
            .group_by(Registration.unit_id, Checkin.event_day_id))}
    people = people_checked_in([event.id])[event.id]
    unit_ids = set(confirmed) | {unit_id for unit_id, _ in present}
    units = {u.id: u for u in db.session.scalars(
        db.select(Unit).where(Unit.id.in_([u for u in unit_ids if u is not None])))}
    rows = []
    for unit_id in unit_ids:
        unit = units.get(unit_id)
        rows.append({
            "unit_id": unit_id,
            "unit": unit.short_name if unit is not None else str(_l("Instansi lain")),
            "unit_name": unit.name if unit is not None else str(_l("Instansi lain")),
            "confirmed": confirmed.get(unit_id, 0),
            "days": [{"date": d.date, "checked_in": present.get((unit_id, d.id), 0)}
                     for d in days],
        })
    rows.sort(key=lambda r: (r["unit_id"] is None, r["unit"].lower()))
    return {
        "confirmed": sum(confirmed.values()),
        "checked_in": people,
        "days": [{"date": d.date,
                  "checked_in": sum(n for (_, day_id), n in present.items() if day_id == d.id)}
                 for d in days],
        "units": rows,
    }
