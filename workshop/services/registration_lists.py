"""Reading registrations for the pages and the API: an event's lists and counts, the
outbox about it, a person's own registrations (and copying one into the person's
profile). Nothing here changes who holds a seat: that is ``services.registration``'s,
under the event's lock.
"""

from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.orm import contains_eager

from workshop.models import (
    EmploymentStatus,
    Event,
    EventStatus,
    MailStatus,
    OutgoingMail,
    Registration,
    RegistrationStatus,
    Unit,
    User,
    db,
)
from workshop.services.identity import nip_digits

WAITLISTED, CANCELLED = RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next in line; None when not on the waiting list."""
    if registration.status != WAITLISTED:
        return None
    ahead = db.session.scalar(
        db.select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == WAITLISTED,
            or_(
                Registration.waitlisted_at < registration.waitlisted_at,
                (Registration.waitlisted_at == registration.waitlisted_at)
                & (Registration.id < registration.id),
            ),
        )
    )
    return ahead + 1


def counts(event_id: int) -> dict[str, int]:
    """Registrations per status (all roles)."""
    rows = db.session.execute(
        db.select(Registration.status, func.count(Registration.id))
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    result = {s.value: 0 for s in RegistrationStatus}
    result.update({str(status): n for status, n in rows})
    return result


def by_manage_token(token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(db.select(Registration).where(Registration.manage_token == token))


def for_person(user: User) -> list[Registration]:
    """A user's registrations: linked to the account, or made with the account's email."""
    return list(
        db.session.scalars(
            db.select(Registration)
            .join(Event)
            .where(or_(Registration.user_id == user.id, Registration.email == user.email))
            .order_by(Event.starts_at.desc())
        )
    )


# --- the participant's own pages (additive helpers for workshop/registration) ------------


def self_cancel_allowed(reg: Registration, now: datetime) -> bool:
    """May the participant still cancel through the manage link?

    Only an active registration for an event that has not started and is neither cancelled
    nor finished: a later cancellation would promote waiting people into an event that is
    already under way (organizers can still cancel with ``cancel``).
    """
    event = reg.event
    return (
        reg.status != CANCELLED
        and event.status in (EventStatus.PUBLISHED, EventStatus.DRAFT)
        and now < event.starts_at
    )


def save_to_profile(user: User, reg: Registration) -> None:
    """Copy a registration's checked, normalised details into the user's profile, so the
    next form is pre-filled. The email is not copied: it is the account's login. Flushes;
    the caller commits."""
    user.name = reg.name
    user.phone = reg.phone
    user.nip = reg.nip
    user.employment_status = EmploymentStatus(reg.employment_status)
    user.position = reg.position or None
    user.unit_id = reg.unit_id
    user.institution = reg.institution
    db.session.flush()


# --- organizer lists --------------------------------------------------------


def search(
    event_id: int, *, q: str = "", status: str | None = None, page: int = 1, per_page: int = 50
):
    """One page (``db.paginate``) of an event's registrations, oldest first.

    ``q`` matches the name, email, institution, the unit's name or short name
    (case-insensitive, anywhere in the text) and the NIP: digits typed with spaces, dots
    or dashes match the stored 18 digits. ``status`` filters by RegistrationStatus; an
    unknown value is ignored.
    """
    query = (
        db.select(Registration)
        .outerjoin(Unit, Registration.unit_id == Unit.id)
        .where(Registration.event_id == event_id)
        .options(contains_eager(Registration.unit))
        .order_by(Registration.id)
    )
    if status in set(RegistrationStatus):
        query = query.where(Registration.status == status)
    q = (q or "").strip()[:200]
    if q:
        conditions = [
            Registration.name.icontains(q, autoescape=True),
            Registration.email.icontains(q, autoescape=True),
            Registration.institution.icontains(q, autoescape=True),
            Unit.name.icontains(q, autoescape=True),
            Unit.short_name.icontains(q, autoescape=True),
        ]
        digits = nip_digits(q)
        if digits.isdigit() and len(digits) >= 4:
            conditions.append(Registration.nip.contains(digits, autoescape=True))
        query = query.where(or_(*conditions))
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False, count=True)


def waitlist_positions(event_id: int) -> dict[int, int]:
    """Registration id -> place on the waiting list (1 = next in line), in one query."""
    ids = db.session.scalars(
        db.select(Registration.id)
        .where(Registration.event_id == event_id, Registration.status == WAITLISTED)
        .order_by(Registration.waitlisted_at, Registration.id)
    )
    return {reg_id: n for n, reg_id in enumerate(ids, start=1)}


def event_registration(event_id: int, registration_id: int) -> Registration | None:
    """The registration if it belongs to the event (else None: another event's id is unknown)."""
    reg = db.session.get(Registration, registration_id)
    return reg if reg is not None and reg.event_id == event_id else None


def event_mails(
    event_id: int,
    *,
    status: str | None = None,
    registration_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
):
    """One page of the outbox messages about an event's registrations, newest first."""
    query = (
        db.select(OutgoingMail)
        .join(Registration, OutgoingMail.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .order_by(OutgoingMail.id.desc())
    )
    if status in set(MailStatus):
        query = query.where(OutgoingMail.status == status)
    if registration_id is not None:
        query = query.where(OutgoingMail.registration_id == registration_id)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def event_mail(event_id: int, mail_id: int) -> OutgoingMail | None:
    """The outbox message if it is about a registration of this event."""
    message = db.session.get(OutgoingMail, mail_id)
    if message is None or message.registration_id is None:
        return None
    reg = db.session.get(Registration, message.registration_id)
    return message if reg is not None and reg.event_id == event_id else None


def mail_counts(event_id: int) -> dict[str, int]:
    """Outbox messages about the event's registrations per MailStatus."""
    rows = db.session.execute(
        db.select(OutgoingMail.status, func.count(OutgoingMail.id))
        .join(Registration, OutgoingMail.registration_id == Registration.id)
        .where(Registration.event_id == event_id)
        .group_by(OutgoingMail.status)
    )
    result = {s.value: 0 for s in MailStatus}
    result.update({str(status): n for status, n in rows})
    return result


def counts_by_event(event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Registrations per status (all roles) for many events in one grouped query.

    Every requested id gets an entry, with zeros when it has no registrations (the API's
    event list uses this so that its query count does not grow with the events)."""
    result = {event_id: {s.value: 0 for s in RegistrationStatus} for event_id in event_ids}
    if not event_ids:
        return result
    rows = db.session.execute(
        db.select(Registration.event_id, Registration.status, func.count(Registration.id))
        .where(Registration.event_id.in_(event_ids))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, n in rows:
        result[event_id][str(status)] = n
    return result


def event_registrations(event_id: int, status: str | None = None) -> list[Registration]:
    """All of an event's registrations, oldest first (optionally one RegistrationStatus)."""
    query = db.select(Registration).where(Registration.event_id == event_id)
    if status is not None:
        query = query.where(Registration.status == status)
    return list(db.session.scalars(query.order_by(Registration.id)))


def pending_mail_ids(event_id: int, limit: int = 1000) -> list[int]:
    """Outbox messages about the event's registrations still waiting to be sent, oldest first."""
    return list(
        db.session.scalars(
            db.select(OutgoingMail.id)
            .join(Registration, OutgoingMail.registration_id == Registration.id)
            .where(Registration.event_id == event_id, OutgoingMail.status == MailStatus.PENDING)
            .order_by(OutgoingMail.id)
            .limit(limit)
        )
    )
