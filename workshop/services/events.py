"""Events: the rules for creating, editing, publishing, cancelling and listing them.

Both the organizer pages and the JSON API parse their input into an ``EventInput``
and call these functions, so each rule exists once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import case
from sqlalchemy.orm import selectinload

from workshop.models import (
    AgendaItem,
    Event,
    EventDay,
    EventStatus,
    Role,
    Speaker,
    Unit,
    User,
    db,
)
from workshop.services import audit
from workshop.services.errors import InvalidTransition, ValidationError
from workshop.timeutil import as_utc, dates_between, wib_date

TITLE_MAX = 200
VENUE_MAX = 300
DESCRIPTION_MAX = 20_000
NAME_MAX = 200
AGENDA_TITLE_MAX = 300
LIST_MAX = 100
DURATION_MAX_DAYS = 366  # speakers or agenda items per event
YEAR_MIN, YEAR_MAX = 1900, 2999  # outside this, WIB/UTC conversion can overflow
CAPACITY_MAX = 1_000_000  # far above any venue; keeps the value inside a database integer


@dataclass
class SpeakerInput:
    name: str
    affiliation: str = ""


@dataclass
class AgendaInput:
    starts_at: datetime
    title: str
    speaker: str = ""


@dataclass
class EventInput:
    """Typed event fields, already parsed from a form or JSON (datetimes may be naive: WIB)."""

    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    days: list[date] | None = None  # None: every day from start to end
    capacity: int | None = None
    unit_quota: int | None = None
    waitlist: bool = True
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    unit_id: int | None = None
    speakers: list[SpeakerInput] = field(default_factory=list)
    agenda: list[AgendaInput] = field(default_factory=list)


def input_from_event(event: Event) -> EventInput:
    """The current values of ``event`` as an EventInput (the base for partial updates)."""
    return EventInput(
        title=event.title,
        venue=event.venue,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        description=event.description,
        days=event.day_dates,
        capacity=event.capacity,
        unit_quota=event.unit_quota,
        waitlist=event.waitlist,
        registration_opens_at=event.registration_opens_at,
        registration_closes_at=event.registration_closes_at,
        unit_id=event.unit_id,
        speakers=[SpeakerInput(s.name, s.affiliation) for s in event.speakers],
        agenda=[AgendaInput(a.starts_at, a.title, a.speaker) for a in event.agenda],
    )


def _check_length(errors, name, value, maximum, required=False):
    if required and not value.strip():
        errors.setdefault(name, []).append(str(_l("Wajib diisi.")))
    elif len(value) > maximum:
        errors.setdefault(name, []).append(str(_l("Paling banyak %(max)d karakter.", max=maximum)))


def _normalised(data: EventInput) -> EventInput:
    """Strip text and make every datetime aware UTC (naive values are WIB)."""

    def opt(value):
        return as_utc(value) if value is not None else None

    return EventInput(
        title=data.title.strip(),
        venue=data.venue.strip(),
        description=(data.description or "").strip(),
        starts_at=as_utc(data.starts_at),
        ends_at=as_utc(data.ends_at),
        days=sorted(set(data.days)) if data.days else None,
        capacity=data.capacity,
        unit_quota=data.unit_quota,
        waitlist=data.waitlist,
        registration_opens_at=opt(data.registration_opens_at),
        registration_closes_at=opt(data.registration_closes_at),
        unit_id=data.unit_id,
        speakers=[
            SpeakerInput(s.name.strip(), (s.affiliation or "").strip()) for s in data.speakers
        ],
        agenda=[
            AgendaInput(as_utc(a.starts_at), a.title.strip(), (a.speaker or "").strip())
            for a in data.agenda
        ],
    )


def _check_years(data: EventInput) -> None:
    """Refuse dates outside YEAR_MIN..YEAR_MAX before any time zone arithmetic overflows."""
    values = {
        "starts_at": [data.starts_at],
        "ends_at": [data.ends_at],
        "registration_opens_at": [data.registration_opens_at],
        "registration_closes_at": [data.registration_closes_at],
        "days": list(data.days or []),
        "agenda": [a.starts_at for a in data.agenda],
    }
    message = str(_l("Tahun harus antara %(min)d dan %(max)d.", min=YEAR_MIN, max=YEAR_MAX))
    errors = {
        name: [message]
        for name, items in values.items()
        if any(v is not None and not YEAR_MIN <= v.year <= YEAR_MAX for v in items)
    }
    if errors:
        raise ValidationError(errors)


def validate_event(data: EventInput, current_unit_id: int | None = None) -> EventInput:
    """Check every event rule; return the normalised input or raise ValidationError.

    Rules: title and venue required and bounded; the end after the start; event days
    within start..end (in WIB); capacity and unit quota positive; registration opens
    before it closes and closes no later than the event ends; the organizing unit
    exists and is active; speakers and agenda items have names/titles and agenda
    times fall within the event; every date lies in the years YEAR_MIN..YEAR_MAX; an
    event lasts at most DURATION_MAX_DAYS. An edit may keep ``current_unit_id`` even
    after that unit was deactivated.
    """
    _check_years(data)
    errors: dict[str, list[str]] = {}
    data = _normalised(data)
    _check_length(errors, "title", data.title, TITLE_MAX, required=True)
    _check_length(errors, "venue", data.venue, VENUE_MAX, required=True)
    _check_length(errors, "description", data.description, DESCRIPTION_MAX)

    if data.ends_at <= data.starts_at:
        errors.setdefault("ends_at", []).append(str(_l("Waktu selesai harus setelah waktu mulai.")))
    elif (data.ends_at - data.starts_at).days >= DURATION_MAX_DAYS:
        errors.setdefault("ends_at", []).append(
            str(_l("Kegiatan paling lama %(n)d hari.", n=DURATION_MAX_DAYS))
        )
    elif data.days is not None:
        allowed = set(dates_between(data.starts_at, data.ends_at))
        outside = [d for d in data.days if d not in allowed]
        if outside:
            errors.setdefault("days", []).append(
                str(_l("Hari kegiatan harus di antara tanggal mulai dan selesai."))
            )

    for name in ("capacity", "unit_quota"):
        value = getattr(data, name)
        if value is not None and value < 1:
            errors.setdefault(name, []).append(str(_l("Harus bilangan bulat lebih dari 0.")))
        elif value is not None and value > CAPACITY_MAX:
            errors.setdefault(name, []).append(
                str(_l("Paling banyak %(max)s.", max=f"{CAPACITY_MAX:,}".replace(",", ".")))
            )
    capacity_ok = data.capacity is not None and "capacity" not in errors
    if capacity_ok and data.unit_quota is not None and data.unit_quota > data.capacity:
        errors.setdefault("unit_quota", []).append(
            str(_l("Kuota per unit tidak boleh melebihi kapasitas."))
        )

    opens, closes = data.registration_opens_at, data.registration_closes_at
    if closes is not None and closes > data.ends_at:
        errors.setdefault("registration_closes_at", []).append(
            str(_l("Pendaftaran harus ditutup paling lambat saat kegiatan selesai."))
        )
    if opens is not None and closes is not None and opens >= closes:
        errors.setdefault("registration_opens_at", []).append(
            str(_l("Pendaftaran harus dibuka sebelum ditutup."))
        )
    if opens is not None and opens >= data.ends_at:
        errors.setdefault("registration_opens_at", []).append(
            str(_l("Pendaftaran harus dibuka sebelum kegiatan selesai."))
        )

    if data.unit_id is not None and data.unit_id != current_unit_id:
        unit = db.session.get(Unit, data.unit_id)
        if unit is None or not unit.active:
            errors.setdefault("unit_id", []).append(str(_l("Unit kerja tidak dikenal.")))

    _validate_lists(errors, data)
    if errors:
        raise ValidationError(errors)
    return data


def _validate_lists(errors, data: EventInput) -> None:
    if len(data.speakers) > LIST_MAX:
        errors.setdefault("speakers", []).append(
            str(_l("Paling banyak %(max)d narasumber.", max=LIST_MAX))
        )
    for s in data.speakers:
        if not s.name or len(s.name) > NAME_MAX or len(s.affiliation) > NAME_MAX:
            errors.setdefault("speakers", []).append(
                str(
                    _l(
                        "Setiap narasumber perlu nama (paling banyak %(max)d karakter).",
                        max=NAME_MAX,
                    )
                )
            )
            break
    if len(data.agenda) > LIST_MAX:
        errors.setdefault("agenda", []).append(
            str(_l("Paling banyak %(max)d acara.", max=LIST_MAX))
        )
    for a in data.agenda:
        if not a.title or len(a.title) > AGENDA_TITLE_MAX or len(a.speaker) > NAME_MAX:
            errors.setdefault("agenda", []).append(
                str(
                    _l(
                        "Setiap acara perlu judul (paling banyak %(max)d karakter).",
                        max=AGENDA_TITLE_MAX,
                    )
                )
            )
            break
    for a in data.agenda:
        if data.ends_at > data.starts_at and not data.starts_at <= a.starts_at <= data.ends_at:
            errors.setdefault("agenda", []).append(
                str(_l("Waktu acara harus di antara waktu mulai dan selesai kegiatan."))
            )
            break


def _apply(event: Event, data: EventInput) -> None:
    event.title = data.title
    event.venue = data.venue
    event.description = data.description
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.capacity = data.capacity
    event.unit_quota = data.unit_quota
    event.waitlist = data.waitlist
    event.registration_opens_at = data.registration_opens_at
    event.registration_closes_at = data.registration_closes_at
    event.unit_id = data.unit_id
    wanted = data.days or dates_between(data.starts_at, data.ends_at)
    # Keep existing day rows (attendance will hang on them); add and drop the difference.
    existing = {d.date: d for d in event.days}
    event.days = [existing.get(d) or EventDay(date=d) for d in wanted]
    event.speakers = [
        Speaker(position=i, name=s.name, affiliation=s.affiliation)
        for i, s in enumerate(data.speakers)
    ]
    event.agenda = [
        AgendaItem(position=i, starts_at=a.starts_at, title=a.title, speaker=a.speaker)
        for i, a in enumerate(data.agenda)
    ]


def create_event(owner: User, data: EventInput) -> Event:
    """Validate and add a new draft event owned by ``owner``. Raises ValidationError."""
    data = validate_event(data)
    event = Event(owner=owner, status=EventStatus.DRAFT)
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    audit.record(owner, "event.create", event, title=event.title)
    return event


def update_event(event: Event, data: EventInput, actor: User) -> Event:
    """Validate and apply new values to ``event``. Raises ValidationError.

    After the caller commits, a raised capacity or quota may let waiting people in:
    call ``registration.fill_from_waitlist``."""
    data = validate_event(data, current_unit_id=event.unit_id)
    _apply(event, data)
    db.session.flush()
    audit.record(actor, "event.update", event)
    return event


def publish_event(event: Event, actor: User) -> Event:
    """Make a draft visible to everyone. Raises InvalidTransition unless it is a draft."""
    if event.status != EventStatus.DRAFT:
        raise InvalidTransition(str(_l("Hanya draf yang dapat diterbitkan.")))
    event.status = EventStatus.PUBLISHED
    audit.record(actor, "event.publish", event)
    return event


def cancel_event(event: Event, actor: User) -> Event:
    """Cancel a draft or published event. Raises InvalidTransition otherwise."""
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise InvalidTransition(str(_l("Kegiatan ini tidak dapat dibatalkan.")))
    event.status = EventStatus.CANCELLED
    audit.record(actor, "event.cancel", event)
    return event


def set_status(event: Event, status: EventStatus, actor: User) -> Event:
    """Move ``event`` to ``status`` through the allowed transitions (API PATCH)."""
    if status == event.status:
        return event
    if status == EventStatus.PUBLISHED:
        return publish_event(event, actor)
    if status == EventStatus.CANCELLED:
        return cancel_event(event, actor)
    if status == EventStatus.FINISHED and event.status == EventStatus.PUBLISHED:
        event.status = EventStatus.FINISHED
        audit.record(actor, "event.finish", event)
        return event
    raise InvalidTransition(str(_l("Perubahan status ini tidak diizinkan.")))


class Phase(StrEnum):
    """Where an event stands for a visitor, from its status and the clock."""

    DRAFT = "draft"
    CANCELLED = "cancelled"
    FINISHED = "finished"  # marked finished, or its end has passed
    RUNNING = "running"
    UPCOMING = "upcoming"


def event_phase(event: Event, now: datetime) -> Phase:
    """Draft and cancelled first; otherwise finished, running or upcoming by the clock."""
    if event.status == EventStatus.DRAFT:
        return Phase.DRAFT
    if event.status == EventStatus.CANCELLED:
        return Phase.CANCELLED
    if event.status == EventStatus.FINISHED or event.ends_at < now:
        return Phase.FINISHED
    if event.starts_at <= now:
        return Phase.RUNNING
    return Phase.UPCOMING


def agenda_by_day(event: Event) -> list[tuple[date, list[AgendaItem]]]:
    """The agenda grouped by its calendar day in WIB, days and items in time order."""
    groups: dict[date, list[AgendaItem]] = {}
    for item in sorted(event.agenda, key=lambda a: (a.starts_at, a.position)):
        groups.setdefault(wib_date(item.starts_at), []).append(item)
    return list(groups.items())


def uses_default_days(event: Event) -> bool:
    """True when the event takes place on every calendar day from its start to its end."""
    return event.day_dates == dates_between(event.starts_at, event.ends_at)


def can_manage(user: User | None, event: Event) -> bool:
    """Admins manage every event; organizers only their own."""
    if user is None or not user.is_authenticated:
        return False
    return user.role == Role.ADMIN or (user.role == Role.ORGANIZER and event.owner_id == user.id)


def can_view(user: User | None, event: Event) -> bool:
    """Published, finished and cancelled events are public; drafts only to who manages them."""
    return event.status != EventStatus.DRAFT or can_manage(user, event)


def public_events(now: datetime, limit: int | None = None) -> list[Event]:
    """Published and finished events: upcoming and running first (soonest first), then past."""
    is_past = case((Event.ends_at < now, 1), else_=0)
    query = (
        db.select(Event)
        .where(Event.status.in_([EventStatus.PUBLISHED, EventStatus.FINISHED]))
        .order_by(
            is_past,
            case((Event.ends_at < now, None), else_=Event.starts_at),
            Event.starts_at.desc(),
        )
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def managed_events(user: User) -> list[Event]:
    """The events ``user`` manages: all for an admin, own for an organizer; newest first."""
    query = db.select(Event).order_by(Event.starts_at.desc())
    if user.role != Role.ADMIN:
        query = query.where(Event.owner_id == user.id)
    return list(db.session.scalars(query))


def api_visible_events(user: User | None) -> list[Event]:
    """Events listed by the API: published/finished/cancelled, plus drafts the user manages."""
    query = (
        db.select(Event)
        .order_by(Event.starts_at)
        .options(selectinload(Event.days), selectinload(Event.speakers), selectinload(Event.agenda))
    )
    visible = Event.status != EventStatus.DRAFT
    if user is not None and user.role == Role.ADMIN:
        return list(db.session.scalars(query))
    if user is not None and user.role == Role.ORGANIZER:
        visible = visible | (Event.owner_id == user.id)
    return list(db.session.scalars(query.where(visible)))
