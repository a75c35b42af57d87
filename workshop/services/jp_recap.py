"""JP recap (rekap jam pelajaran): a civil servant must show at least 20 JP of competence
development a year. A person is matched across events by NIP, or by email when there is
no NIP; JP come from valid (not revoked) certificates. The numbers follow the
definitions in ``services.reports``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, extract, func, or_

from workshop.models import Certificate, Checkin, Event, Registration, Unit, User, db
from workshop.services.reports import (
    CONFIRMED,
    COUNTED_EVENTS,
    JP_TARGET,
    PERSON_KEY,
    _utc_bounds,
    format_nip,
)
from workshop.timeutil import to_wib

SEARCH_LIMIT = 50


@dataclass
class RecapRow:
    event_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    days_attended: int
    certificate_number: str | None
    jp: int


@dataclass
class YearRecap:
    year: int
    rows: list[RecapRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.jp for r in self.rows)

    @property
    def below_target(self) -> bool:
        return self.total < JP_TARGET


@dataclass
class PersonRef:
    """Whom a recap is about: ``nip`` when known, else ``email`` identifies them."""

    name: str
    nip: str | None
    email: str
    affiliation: str
    employment_status: str | None = None

    @property
    def nip_text(self) -> str:
        return format_nip(self.nip, self.employment_status)


def user_filter(user: User):
    """The registrations that are ``user``'s: with the profile's NIP, or made with the
    account's email (or linked to it) and carrying no other NIP."""
    own = or_(Registration.email == user.email, Registration.user_id == user.id)
    if not user.nip:
        return own
    return or_(
        Registration.nip == user.nip,
        and_(own, or_(Registration.nip.is_(None), Registration.nip == user.nip)),
    )


def person_filter(nip: str | None, email: str | None):
    """A person's registrations: by NIP, or by email among those without a NIP."""
    if nip:
        return Registration.nip == nip
    return and_(Registration.email == (email or ""), Registration.nip.is_(None))


def recap(condition) -> list[YearRecap]:
    """Per year (newest first), the events attended (checked in on a day or holding a
    valid certificate) by the registrations matching ``condition``. Three queries."""
    regs = db.session.execute(
        db.select(Registration.id, Event)
        .join(Event, Registration.event_id == Event.id)
        .where(condition)
    ).all()
    ids = db.select(Registration.id).where(condition).scalar_subquery()
    days = dict(
        db.session.execute(
            db.select(Checkin.registration_id, func.count(Checkin.id))
            .where(Checkin.registration_id.in_(ids))
            .group_by(Checkin.registration_id)
        ).all()
    )
    certificates = {
        c.registration_id: c
        for c in db.session.scalars(
            db.select(Certificate).where(
                Certificate.registration_id.in_(ids), Certificate.revoked_at.is_(None)
            )
        )
    }
    by_event: dict[int, RecapRow] = {}
    for reg_id, event in regs:
        cert = certificates.get(reg_id)
        attended = days.get(reg_id, 0)
        if not attended and cert is None:
            continue
        row = by_event.get(event.id)
        if row is None or (cert is not None and row.certificate_number is None):
            row = RecapRow(
                event.id,
                event.title,
                event.starts_at,
                event.ends_at,
                event.venue,
                attended,
                cert.number if cert else None,
                (cert.hours or 0) if cert else 0,
            )
            by_event[event.id] = row
        row.days_attended = max(row.days_attended, attended)
    years: dict[int, YearRecap] = {}
    for row in sorted(by_event.values(), key=lambda r: (r.starts_at, r.event_id)):
        years.setdefault(
            to_wib(row.starts_at).year, YearRecap(to_wib(row.starts_at).year)
        ).rows.append(row)
    return [years[y] for y in sorted(years, reverse=True)]


def _ref(reg: Registration, unit_name: str | None) -> PersonRef:
    return PersonRef(
        name=reg.name,
        nip=reg.nip,
        email=reg.email,
        affiliation=unit_name or reg.institution or "",
        employment_status=reg.employment_status,
    )


def user_ref(user: User) -> PersonRef:
    unit = db.session.get(Unit, user.unit_id) if user.unit_id else None
    return PersonRef(
        name=user.name,
        nip=user.nip,
        email=user.email,
        affiliation=unit.name if unit else (user.institution or ""),
        employment_status=user.employment_status,
    )


def _latest(condition, limit: int | None = None) -> list[PersonRef]:
    """One PersonRef per person among the registrations matching ``condition``: the
    details of their latest registration. Two queries."""
    query = (
        db.select(func.max(Registration.id))
        .where(condition)
        .group_by(PERSON_KEY)
        .order_by(func.max(Registration.id).desc())
    )
    if limit:
        query = query.limit(limit)
    latest = db.session.scalars(query).all()
    rows = (
        db.session.execute(
            db.select(Registration, Unit.name)
            .outerjoin(Unit, Registration.unit_id == Unit.id)
            .where(Registration.id.in_(latest))
        ).all()
        if latest
        else []
    )
    people = [_ref(reg, unit_name) for reg, unit_name in rows]
    people.sort(key=lambda p: (p.name.casefold(), p.nip or p.email))
    return people


def find_people(query: str, limit: int = SEARCH_LIMIT) -> list[PersonRef]:
    """People whose name, NIP (spaces ignored) or email contains ``query``."""
    text = (query or "").strip()[:100]
    if len(text) < 2:
        return []
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    conditions = [
        func.lower(Registration.name).like(like, escape="\\"),
        func.lower(Registration.email).like(like, escape="\\"),
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        conditions.append(Registration.nip.like(f"%{digits}%"))
    return _latest(or_(*conditions), limit)


def person(nip: str | None, email: str | None) -> PersonRef | None:
    found = _latest(person_filter(nip, email), 1)
    return found[0] if found else None


@dataclass
class UnitPersonJP:
    person: PersonRef
    events_attended: int
    jp: int

    @property
    def below_target(self) -> bool:
        return self.jp < JP_TARGET


def unit_year(unit_id: int, year: int) -> list[UnitPersonJP]:
    """The people who registered from ``unit_id`` for an event in ``year`` (published or
    finished, confirmed registrations) with their JP that year from any event, fewest
    JP first. Four queries."""
    start, end = _utc_bounds(date(year, 1, 1), date(year, 12, 31))
    in_year = and_(
        Event.starts_at >= start, Event.starts_at < end, Event.status.in_(COUNTED_EVENTS)
    )
    from_unit = and_(
        Registration.unit_id == unit_id,
        Registration.status == CONFIRMED,
        Registration.event_id.in_(db.select(Event.id).where(in_year)),
    )
    people = _latest(from_unit)
    keys = db.select(PERSON_KEY).where(from_unit).scalar_subquery()
    jp = dict(
        db.session.execute(
            db.select(PERSON_KEY, func.coalesce(func.sum(Certificate.hours), 0))
            .join(Registration, Certificate.registration_id == Registration.id)
            .join(Event, Certificate.event_id == Event.id)
            .where(in_year, Certificate.revoked_at.is_(None), PERSON_KEY.in_(keys))
            .group_by(PERSON_KEY)
        ).all()
    )
    attended = dict(
        db.session.execute(
            db.select(PERSON_KEY, func.count(func.distinct(Checkin.event_id)))
            .join(Registration, Checkin.registration_id == Registration.id)
            .join(Event, Checkin.event_id == Event.id)
            .where(in_year, PERSON_KEY.in_(keys))
            .group_by(PERSON_KEY)
        ).all()
    )
    rows = [
        UnitPersonJP(p, attended.get(p.nip or p.email, 0), int(jp.get(p.nip or p.email, 0)))
        for p in people
    ]
    rows.sort(key=lambda r: (r.jp, r.person.name.casefold()))
    return rows


def years_with_events() -> list[int]:
    """The years (WIB, roughly) in which events start, newest first, for year pickers."""
    years = db.session.scalars(db.select(extract("year", Event.starts_at)).distinct()).all()
    return sorted({int(y) for y in years if y is not None}, reverse=True)
