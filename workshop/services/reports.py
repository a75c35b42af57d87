"""The numbers behind every attendance report: one implementation for the dashboard, its
JSON, the exports, the daftar hadir (attendance list) PDF and the API's attendance.

Definitions used everywhere:

- registered (terdaftar): confirmed registrations of every role;
- checked in on a day: the check-in rows of that event day (one per person per day,
  whatever the registration's status is now);
- attended (hadir): people checked in on at least one event day;
- a person across events: the NIP, or the email when there is no NIP;
- JP (jam pelajaran, lesson hours): the hours printed on valid (not revoked) certificates.

Every function runs a fixed number of queries, however many registrations there are.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_

from workshop.models import (
    Certificate,
    Checkin,
    Event,
    EventDay,
    EventStatus,
    Registration,
    RegistrationStatus,
    Unit,
    db,
)
from workshop.services.errors import ValidationError
from workshop.timeutil import WIB, to_wib

BIN_MINUTES = 5  # arrivals are counted per 5 minutes
JP_TARGET = 20  # civil servants: at least 20 JP of competence development a year
MAX_PERIOD_DAYS = 3 * 366
OUTSIDE = _l("Instansi lain")
CONFIRMED = RegistrationStatus.CONFIRMED
COUNTED_EVENTS = (EventStatus.PUBLISHED, EventStatus.FINISHED)


def format_nip(nip: str | None, employment_status: str | None = None) -> str:
    """A civil servant's NIP in its four groups (19680411 199303 1 009); others as stored."""
    if not nip:
        return ""
    if employment_status in (None, "pns") and len(nip) == 18 and nip.isdigit():
        return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"
    return nip


def local_phone(phone: str | None) -> str:
    """+6281234567890 -> 081234567890: how Indonesians write it (and no leading '+')."""
    if not phone:
        return ""
    return "0" + phone[3:] if phone.startswith("+62") else phone


# --- one event -----------------------------------------------------------------------


@dataclass
class DayAttendance:
    day_id: int
    date: date
    checked_in: int
    arrivals: list[tuple[datetime, int]]  # (start of the 5 minutes in WIB, check-ins)


@dataclass
class UnitAttendance:
    unit_id: int | None  # None: outside institutions together
    name: str
    short_name: str
    quota: int | None
    registered: int
    days: list[int]  # check-ins per event day, in day order
    attended: int  # people checked in on at least one day

    @property
    def rate(self) -> float | None:
        """Attended / registered (None when nobody registered)."""
        return self.attended / self.registered if self.registered else None


@dataclass
class EventReport:
    event_id: int
    counts: dict[str, int]  # confirmed, waitlisted, cancelled (every role)
    days: list[DayAttendance]
    units: list[UnitAttendance]  # units with registrations or check-ins; outsiders last
    attended: int
    units_without_registrations: list[Unit] = field(default_factory=list)  # active units

    @property
    def registered(self) -> int:
        return self.counts[CONFIRMED.value]

    @property
    def units_without_attendance(self) -> list[UnitAttendance]:
        """Work units with registered people of whom nobody came on any day."""
        return [u for u in self.units if u.unit_id is not None and u.registered and not u.attended]


def _bins(times: list[datetime]) -> list[tuple[datetime, int]]:
    """Check-ins per 5 minutes (WIB), every bin from the first arrival to the last."""
    if not times:
        return []
    counts: dict[datetime, int] = {}
    for at in times:
        local = to_wib(at)
        start = local.replace(
            minute=local.minute - local.minute % BIN_MINUTES, second=0, microsecond=0
        )
        counts[start] = counts.get(start, 0) + 1
    first, last = min(counts), max(counts)
    step = timedelta(minutes=BIN_MINUTES)
    result, at = [], first
    while at <= last:
        result.append((at, counts.get(at, 0)))
        at += step
    return result


def event_report(event: Event) -> EventReport:
    """Counts by status, check-ins and arrivals per day, and one row per work unit.

    Five queries: the days, the status counts, the confirmed per unit, every check-in
    (day, time, unit) and the units."""
    days = list(event.days)
    counts = {s.value: 0 for s in RegistrationStatus}
    counts.update(
        {
            str(s): n
            for s, n in db.session.execute(
                db.select(Registration.status, func.count(Registration.id))
                .where(Registration.event_id == event.id)
                .group_by(Registration.status)
            )
        }
    )
    registered = dict(
        db.session.execute(
            db.select(Registration.unit_id, func.count(Registration.id))
            .where(Registration.event_id == event.id, Registration.status == CONFIRMED)
            .group_by(Registration.unit_id)
        ).all()
    )
    checkins = db.session.execute(
        db.select(
            Checkin.registration_id,
            Checkin.event_day_id,
            Checkin.checked_in_at,
            Registration.unit_id,
        )
        .join(Registration, Checkin.registration_id == Registration.id)
        .where(Checkin.event_id == event.id)
    ).all()

    times: dict[int, list[datetime]] = {d.id: [] for d in days}
    per_unit_day: dict[tuple[int | None, int], int] = {}
    people: dict[int | None, set[int]] = {}
    for reg_id, day_id, at, unit_id in checkins:
        times.setdefault(day_id, []).append(at)
        per_unit_day[unit_id, day_id] = per_unit_day.get((unit_id, day_id), 0) + 1
        people.setdefault(unit_id, set()).add(reg_id)

    unit_ids = {u for u in (set(registered) | set(people)) if u is not None}
    units = {
        u.id: u
        for u in db.session.scalars(
            db.select(Unit).where(or_(Unit.active.is_(True), Unit.id.in_(unit_ids)))
        )
    }
    rows = []
    for unit_id in set(registered) | set(people):
        unit = units.get(unit_id)
        rows.append(
            UnitAttendance(
                unit_id=unit_id,
                name=unit.name if unit is not None else str(OUTSIDE),
                short_name=unit.short_name if unit is not None else str(OUTSIDE),
                quota=event.unit_quota if unit is not None else None,
                registered=registered.get(unit_id, 0),
                days=[per_unit_day.get((unit_id, d.id), 0) for d in days],
                attended=len(people.get(unit_id, ())),
            )
        )
    rows.sort(key=lambda r: (r.unit_id is None, r.name.casefold()))
    idle = sorted(
        (u for u in units.values() if u.active and u.id not in registered),
        key=lambda u: u.name.casefold(),
    )
    return EventReport(
        event_id=event.id,
        counts=counts,
        days=[
            DayAttendance(d.id, d.date, len(times.get(d.id, ())), _bins(times.get(d.id, [])))
            for d in days
        ],
        units=rows,
        attended=sum(len(p) for p in people.values()),
        units_without_registrations=idle,
    )


def report_json(report: EventReport) -> dict:
    """The report as plain JSON values (the dashboard's live updates and integrations)."""
    return {
        "counts": report.counts,
        "attended": report.attended,
        "days": [
            {
                "date": d.date.isoformat(),
                "checked_in": d.checked_in,
                "arrivals": [{"at": at.isoformat(), "checked_in": n} for at, n in d.arrivals],
            }
            for d in report.days
        ],
        "units": [
            {
                "unit_id": u.unit_id,
                "name": u.name,
                "short_name": u.short_name,
                "quota": u.quota,
                "registered": u.registered,
                "attended": u.attended,
                "days": u.days,
                "rate": None if u.rate is None else round(u.rate, 4),
            }
            for u in report.units
        ],
        "units_without_registrations": [
            {"unit_id": u.id, "name": u.name, "short_name": u.short_name}
            for u in report.units_without_registrations
        ],
        "units_without_attendance": [u.unit_id for u in report.units_without_attendance],
    }


def attendance_api_json(report: EventReport) -> dict:
    """The report as the API's attendance answer: the dashboard's own JSON (per day with
    its arrivals, per unit with quota, registered, attended and rate) plus the names the
    API has always answered (``confirmed``, ``checked_in``, ``unit``, ``unit_name`` and
    check-ins per day as date/count pairs). Built from ``report_json``: the two cannot
    disagree."""
    data = report_json(report)
    dates = [day["date"] for day in data["days"]]
    return {
        "event_id": report.event_id,
        "confirmed": report.registered,
        "checked_in": report.attended,
        "counts": data["counts"],
        "days": data["days"],
        "units": [
            {
                "unit_id": row["unit_id"],
                "unit": row["short_name"],
                "unit_name": row["name"],
                "confirmed": row["registered"],
                **{key: row[key] for key in ("registered", "attended", "quota", "rate")},
                "days": [
                    {"date": d, "checked_in": n} for d, n in zip(dates, row["days"], strict=True)
                ],
            }
            for row in data["units"]
        ],
    }


# --- people of one event (exports and the daftar hadir) --------------------------------


@dataclass
class Person:
    """One registration as the exports and the attendance list print it."""

    registration_id: int
    name: str
    nip: str  # formatted
    employment_status: str
    position: str
    affiliation: str
    email: str
    phone: str
    status: str
    role: str
    created_at: datetime
    checkins: list[datetime | None]  # per event day (aware UTC), None: not checked in

    @property
    def days_attended(self) -> int:
        return sum(1 for at in self.checkins if at is not None)


PERSON_COLUMNS = (
    Registration.id,
    Registration.name,
    Registration.nip,
    Registration.employment_status,
    Registration.position,
    Registration.institution,
    Registration.email,
    Registration.phone,
    Registration.status,
    Registration.role,
    Registration.created_at,
)


def _person(row, checkins: list) -> Person:
    """A Person from a row of PERSON_COLUMNS plus the unit's name (plain columns, no ORM
    objects: three times faster for thousands of registrations)."""
    (
        reg_id,
        name,
        nip,
        employment,
        position,
        institution,
        email,
        phone,
        status,
        role,
        created_at,
        unit_name,
    ) = row[:12]
    return Person(
        registration_id=reg_id,
        name=name,
        nip=format_nip(nip, employment),
        employment_status=employment,
        position=position or "",
        affiliation=unit_name or institution or "",
        email=email,
        phone=local_phone(phone),
        status=str(status),
        role=str(role),
        created_at=created_at,
        checkins=checkins,
    )


def event_people(event: Event) -> list[Person]:
    """Every registration of the event (any status) with its check-in per day, by name.

    Three queries (days, registrations with their unit, check-ins)."""
    days = list(event.days)
    index = {d.id: i for i, d in enumerate(days)}
    at: dict[int, list] = {}
    for reg_id, day_id, checked_in_at in db.session.execute(
        db.select(Checkin.registration_id, Checkin.event_day_id, Checkin.checked_in_at).where(
            Checkin.event_id == event.id
        )
    ):
        if day_id in index:
            at.setdefault(reg_id, [None] * len(days))[index[day_id]] = checked_in_at
    rows = db.session.execute(
        db.select(*PERSON_COLUMNS, Unit.name)
        .outerjoin(Unit, Registration.unit_id == Unit.id)
        .where(Registration.event_id == event.id)
    ).all()
    people = [_person(row, at.get(row[0], [None] * len(days))) for row in rows]
    people.sort(key=lambda p: (p.name.casefold(), p.registration_id))
    return people


def day_of(event: Event, value: str | None) -> EventDay | None:
    """The event day named by an ISO date (the first day when none is given)."""
    days = list(event.days)
    if not value:
        return days[0] if days else None
    try:
        wanted = date.fromisoformat(value)
    except ValueError:
        return None
    return next((d for d in days if d.date == wanted), None)


def attendance_list(event: Event, day: EventDay, *, blank: bool = False) -> list[Person]:
    """The people of the daftar hadir for ``day``, by name: those checked in that day with
    their time, or (``blank``, to sign on paper before the event) every confirmed
    registration without times. One query."""
    query = (
        db.select(*PERSON_COLUMNS, Unit.name)
        .outerjoin(Unit, Registration.unit_id == Unit.id)
        .where(Registration.event_id == event.id)
    )
    if blank:
        people = [
            _person(row, [None])
            for row in db.session.execute(query.where(Registration.status == CONFIRMED))
        ]
    else:
        people = [
            _person(row, [row[12]])
            for row in db.session.execute(
                query.add_columns(Checkin.checked_in_at)
                .join(Checkin, Checkin.registration_id == Registration.id)
                .where(Checkin.event_day_id == day.id)
            )
        ]
    people.sort(key=lambda p: (p.name.casefold(), p.registration_id))
    return people


# --- work units across events (admins) ---------------------------------------------------


@dataclass
class UnitPeriodRow:
    unit_id: int
    name: str
    short_name: str
    active: bool
    events_registered: int  # events its staff held a confirmed registration for
    events_attended: int  # events at which at least one of them was checked in
    people_registered: int
    people_attended: int
    jp_total: int  # JP of its staff's valid certificates


def parse_period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    """Check a period of ISO dates; raise ValidationError with a message per field."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not (raw or "").strip():
            errors[name] = [str(_l("Wajib diisi (format TTTT-BB-HH)."))]
            continue
        try:
            values[name] = date.fromisoformat(raw.strip())
        except ValueError:
            errors[name] = [str(_l("Tanggal tidak valid; gunakan format TTTT-BB-HH."))]
    if not errors and values["to"] < values["from"]:
        errors["to"] = [str(_l("Tanggal akhir tidak boleh sebelum tanggal awal."))]
    elif not errors and (values["to"] - values["from"]).days > MAX_PERIOD_DAYS:
        errors["to"] = [str(_l("Periode paling panjang tiga tahun."))]
    if errors:
        raise ValidationError(errors)
    return values["from"], values["to"]


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[00.00 WIB of ``first``, 00.00 WIB of the day after ``last``) in UTC."""
    start = datetime.combine(first, time(0), tzinfo=WIB).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=WIB).astimezone(UTC)
    return start, end


def _period_events(first: date, last: date):
    start, end = _utc_bounds(first, last)
    return db.select(Event.id).where(
        Event.starts_at >= start, Event.starts_at < end, Event.status.in_(COUNTED_EVENTS)
    )


PERSON_KEY = func.coalesce(Registration.nip, Registration.email)


def unit_period_report(first: date, last: date) -> list[UnitPeriodRow]:
    """Per work unit, for events starting in [first, last] (WIB; published or finished):
    events registered for and attended, people, and JP earned. Every active unit gets a
    row (inactive ones only with data). Four queries."""
    events = _period_events(first, last).scalar_subquery()
    registered = {
        unit_id: (n_events, n_people)
        for unit_id, n_events, n_people in db.session.execute(
            db.select(
                Registration.unit_id,
                func.count(func.distinct(Registration.event_id)),
                func.count(func.distinct(PERSON_KEY)),
            )
            .where(
                Registration.event_id.in_(events),
                Registration.status == CONFIRMED,
                Registration.unit_id.is_not(None),
            )
            .group_by(Registration.unit_id)
        )
    }
    attended = {
        unit_id: (n_events, n_people)
        for unit_id, n_events, n_people in db.session.execute(
            db.select(
                Registration.unit_id,
                func.count(func.distinct(Checkin.event_id)),
                func.count(func.distinct(PERSON_KEY)),
            )
            .join(Registration, Checkin.registration_id == Registration.id)
            .where(Checkin.event_id.in_(events), Registration.unit_id.is_not(None))
            .group_by(Registration.unit_id)
        )
    }
    jp = dict(
        db.session.execute(
            db.select(Registration.unit_id, func.coalesce(func.sum(Certificate.hours), 0))
            .join(Registration, Certificate.registration_id == Registration.id)
            .where(
                Certificate.event_id.in_(events),
                Certificate.revoked_at.is_(None),
                Registration.unit_id.is_not(None),
            )
            .group_by(Registration.unit_id)
        ).all()
    )
    with_data = set(registered) | set(attended) | set(jp)
    units = db.session.scalars(
        db.select(Unit).where(or_(Unit.active.is_(True), Unit.id.in_(with_data)))
    ).all()
    rows = [
        UnitPeriodRow(
            unit_id=u.id,
            name=u.name,
            short_name=u.short_name,
            active=u.active,
            events_registered=registered.get(u.id, (0, 0))[0],
            events_attended=attended.get(u.id, (0, 0))[0],
            people_registered=registered.get(u.id, (0, 0))[1],
            people_attended=attended.get(u.id, (0, 0))[1],
            jp_total=int(jp.get(u.id, 0) or 0),
        )
        for u in units
    ]
    rows.sort(key=lambda r: r.name.casefold())
    return rows


def unit_period_json(first: date, last: date, rows: list[UnitPeriodRow]) -> dict:
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "count": len(rows),
        "items": [
            {
                "unit_id": r.unit_id,
                "name": r.name,
                "short_name": r.short_name,
                "active": r.active,
                "events_registered": r.events_registered,
                "events_attended": r.events_attended,
                "people_registered": r.people_registered,
                "people_attended": r.people_attended,
                "jp_total": r.jp_total,
            }
            for r in rows
        ],
    }
