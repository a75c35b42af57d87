"""Registration: the rules for capacity, per-unit quota, waiting list and cancellation.

Every function that changes who holds a seat runs in its own transaction holding the
event's write lock (``locking.run_locked``) and commits it, so that parallel requests
on several servers never confirm more people than the capacity or a unit's quota.
Speakers and committee members are registered too, but take no participant seat and
count against no unit quota. Mails are queued in the same transaction and delivered
after the commit (``services.mail``).

Beside it: ``registration_input`` checks what a person types, ``placement`` holds the
statements that count seats and place a new registration, and ``registration_lists``
reads registrations for the pages and the API.
"""

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from workshop.models import (
    Event,
    EventRole,
    EventStatus,
    Registration,
    RegistrationStatus,
    User,
    db,
    utcnow,
)
from workshop.models.registration import new_secret
from workshop.services import audit, mail, placement
from workshop.services.errors import DomainError, NotFound, ValidationError
from workshop.services.events import can_manage
from workshop.services.locking import run_in_write_transaction, run_locked, run_on_connection
from workshop.services.registration_input import RegistrationInput, validate_registration
from workshop.services.registration_lists import waitlist_position, waitlist_positions
from workshop.services.users import normalise_email
from workshop.timeutil import to_wib

CONFIRMED, WAITLISTED, CANCELLED = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)


class RegistrationNotOpen(DomainError):
    code = "registration_not_open"


class RegistrationClosed(DomainError):
    code = "registration_closed"


class EventFull(DomainError):
    code = "event_full"


class UnitQuotaFull(DomainError):
    code = "unit_quota_full"


class DuplicateRegistration(DomainError):
    """The person already holds an active registration; ``existing_id`` names it."""

    code = "duplicate_registration"

    def __init__(self, message: str, existing_id: int | None = None):
        super().__init__(message)
        self.existing_id = existing_id


@dataclass
class Outcome:
    """The result of a change: the registration and any waiting registrations promoted."""

    registration: Registration | None
    promoted: list[Registration] = field(default_factory=list)
    waitlist_position: int | None = None
    mail_ids: list[int] = field(default_factory=list)


# --- the registration window ---------------------------------------------


def window_problem(event: Event, now: datetime, by_organizer: bool = False) -> DomainError | None:
    """Why registration is not possible right now, or None.

    The public may register for a published event between its opening and closing
    times (closing defaults to the event's end). Organizers may add people outside the
    window and to drafts, but never to a cancelled or finished event.
    """
    if event.status in (EventStatus.CANCELLED, EventStatus.FINISHED):
        return RegistrationClosed(
            str(_l("Pendaftaran ditutup: kegiatan ini sudah %(s)s.", s=_status_word(event.status)))
        )
    if by_organizer:
        return None
    if event.status != EventStatus.PUBLISHED:
        return RegistrationClosed(str(_l("Kegiatan ini belum dibuka untuk pendaftaran.")))
    if event.registration_opens_at and now < event.registration_opens_at:
        return RegistrationNotOpen(
            str(
                _l(
                    "Pendaftaran belum dibuka. Pendaftaran dibuka pada %(when)s WIB.",
                    when=to_wib(event.registration_opens_at).strftime("%d-%m-%Y %H.%M"),
                )
            )
        )
    closes = event.registration_closes_at or event.ends_at
    if now >= closes:
        return RegistrationClosed(str(_l("Pendaftaran sudah ditutup.")))
    return None


def _status_word(status: EventStatus) -> str:
    return str(_l("dibatalkan") if status == EventStatus.CANCELLED else _l("selesai"))


# --- counting ---------------------------------------------------------------


def _room(event: Event, unit_id: int | None) -> DomainError | None:
    """None when one more participant from ``unit_id`` fits; else the reason. Counts
    only what the event limits."""
    taken = placement.taken(event.id) if event.capacity is not None else 0
    unit_taken = (
        placement.taken(event.id, unit_id)
        if event.unit_quota is not None and unit_id is not None
        else 0
    )
    return _refusal(event, taken, unit_taken, unit_id)


def _refusal(event, taken: int, unit_taken: int, unit_id: int | None) -> DomainError | None:
    """None when one more participant from ``unit_id`` fits, given ``taken`` participant
    seats of the event and ``unit_taken`` of the unit; else the reason."""
    if event.capacity is not None and taken >= event.capacity:
        return _full()
    if event.unit_quota is not None and unit_id is not None and unit_taken >= event.unit_quota:
        return _unit_full(event.unit_quota)
    return None


def _full() -> EventFull:
    return EventFull(str(_l("Kuota kegiatan sudah penuh.")))


def _unit_full(quota: int) -> UnitQuotaFull:
    return UnitQuotaFull(
        str(_l("Kuota untuk unit kerja Anda sudah penuh (%(n)d orang per unit).", n=quota))
    )


def seats_left(event: Event) -> int | None:
    """Free participant seats, or None when the capacity is unlimited."""
    if event.capacity is None:
        return None
    return max(event.capacity - placement.taken(event.id), 0)


# --- changing ---------------------------------------------------------------


def _fill_from_waitlist(event: Event, now: datetime) -> list[Registration]:
    """Confirm waiting participants, earliest first, while capacity and quotas allow."""
    promoted = []
    in_line = (Registration.event_id == event.id, Registration.status == WAITLISTED)
    query = (
        db.select(Registration)
        .where(*in_line)
        .order_by(Registration.waitlisted_at, Registration.id)
    )
    if event.capacity is not None and placement.taken(event.id) >= event.capacity:
        # Full (the usual case once there is a waiting list, checked on every new
        # registration): the loop below stops at the first waiting participant, so read
        # only the rows up to it, not the whole list.
        first = db.session.execute(
            db.select(Registration.waitlisted_at, Registration.id)
            .where(*in_line, Registration.role == EventRole.PARTICIPANT)
            .order_by(Registration.waitlisted_at, Registration.id)
            .limit(1)
        ).first()
        if first is not None:
            query = query.where(
                or_(
                    Registration.waitlisted_at < first.waitlisted_at,
                    (Registration.waitlisted_at == first.waitlisted_at)
                    & (Registration.id <= first.id),
                )
            )
    waiting = db.session.scalars(query).all()
    for reg in waiting:
        if reg.role != EventRole.PARTICIPANT or _room(event, reg.unit_id) is None:
            _confirm(reg, now)
            promoted.append(reg)
        elif event.capacity is not None and placement.taken(event.id) >= event.capacity:
            break  # full: nobody further down can get in either
    return promoted


def _confirm(reg: Registration, now: datetime) -> None:
    reg.status = CONFIRMED
    reg.confirmed_at = now
    reg.waitlisted_at = None
    db.session.flush()


def _find_duplicate(event_id: int, email: str, nip: str | None, exclude_id=None):
    conditions = [Registration.email == email]
    if nip:
        conditions.append(Registration.nip == nip)
    query = db.select(Registration).where(
        Registration.event_id == event_id, placement.ACTIVE, or_(*conditions)
    )
    if exclude_id is not None:
        query = query.where(Registration.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def _duplicate_error(existing_id: int | None) -> DuplicateRegistration:
    return DuplicateRegistration(
        str(
            _l(
                "Anda sudah terdaftar di kegiatan ini dengan email atau NIP tersebut. "
                "Tautan untuk mengelola pendaftaran telah dikirim ulang ke email yang terdaftar."
            )
        ),
        existing_id=existing_id,
    )


def _queue_mails(regs: list[Registration], kind: str) -> list[int]:
    return [mail.queue_registration_mail(reg, kind).id for reg in regs]


# --- placing a new registration ---------------------------------------------


@dataclass
class Placed:
    """A new registration as ``place`` inserted it: its columns (``values``, with its
    ``id``), whom it promoted, its waiting-list position and its queued mails."""

    values: dict
    promoted: list[Registration]
    position: int | None
    mail_ids: list[int]

    @property
    def row(self) -> SimpleNamespace:
        """The columns as attributes, like a Registration's (for answers built from them)."""
        return SimpleNamespace(**self.values)


def _new_row(data: RegistrationInput, user_id: int | None) -> dict:
    """The registration's row but for its place (status and the times), made before the
    event is locked: the lock is held only for the statements."""
    return {
        "event_id": None,
        "user_id": user_id,
        "name": data.name,
        "email": data.email,
        "phone": data.phone or None,
        "nip": data.nip or None,
        "employment_status": data.employment_status,
        "position": data.position,
        "unit_id": data.unit_id,
        "institution": data.institution or None,
        "role": EventRole(data.role).value,
        "status": None,
        "waitlisted_at": None,
        "confirmed_at": None,
        "cancelled_at": None,
        "manage_token": new_secret(),
        "check_in_code": new_secret(),
        "created_at": None,
        "updated_at": None,
    }


def _place_new(
    conn,
    event,
    counts,
    values: dict,
    now: datetime,
    *,
    params: dict,
    actor_id: int | None,
    mail_row: dict | None,
) -> Placed:
    """Add one checked registration (``values`` from ``_new_row``; ``params`` those of the
    ``placement.PLACEMENT`` read that gave ``counts``) to the locked ``event``:
    confirmed, waitlisted, or refused (DuplicateRegistration, EventFull, UnitQuotaFull).
    Its row, its audit row and its mail (``mail_row``, None for no mail) are each one
    statement: a registration is what the whole regency does in the same minute, and the
    ORM's unit of work cost more than the rest. Waiting people who fit now go first."""
    promoted = []
    if counts.waiting and (event.capacity is None or counts.taken < event.capacity):
        # Someone waits although there are seats (a unit quota, or a change that did not
        # promote): whoever fits goes first. At a full event nobody can.
        promoted = _fill_from_waitlist(event, now)
        if promoted:
            counts = conn.execute(placement.PLACEMENT, params).one()
    if counts.duplicate_id is not None:
        raise _duplicate_error(counts.duplicate_id)
    reason = (
        _refusal(event, counts.taken, counts.unit_taken, values["unit_id"])
        if values["role"] == EventRole.PARTICIPANT
        else None
    )
    if reason is not None and not event.waitlist:
        raise reason
    created = utcnow()
    values = {**values, "event_id": event.id, "created_at": created, "updated_at": created}
    position = None
    if reason is None:
        values.update(status=CONFIRMED.value, confirmed_at=now)
    else:
        # Last in line, in the order the lock was got: a request that waited for the lock
        # with an earlier ``now`` than the one before it takes that one's time (the id
        # then decides), so the place told to each person stays true.
        last = counts.last_waiting
        values.update(
            status=WAITLISTED.value, waitlisted_at=now if last is None else max(now, last)
        )
        position = counts.waiting + 1
    audit_row = audit.row(actor_id, "registration.create", "registration", status=values["status"])
    if mail_row is not None:
        mail_row = mail.registration_mail(
            mail_row, f"registration.{values['status']}", event_title=event.title, position=position
        )
    try:
        # Nothing is written after these rows unless people were promoted: on PostgreSQL
        # the transaction is committed with them (``run_on_connection``'s own
        # commit then finds nothing to do).
        values["id"], mail_id = placement.insert_new(
            conn, values, audit_row, mail_row, commit=not promoted
        )
    except IntegrityError as exc:  # a race that slipped past the lock: same answer
        raise _duplicate_error(None) from exc
    mail_ids = []
    if mail_row is not None:
        mail_ids = [mail_id, *_queue_mails(promoted, "registration.promoted")]
    return Placed(values, promoted, position, mail_ids)


def _attach(values: dict) -> Registration:
    """The Registration just inserted with ``values`` (every column), as a persistent ORM
    object of the session without reading it back."""
    reg = Registration(**values)
    make_transient_to_detached(reg)
    db.session.add(reg)
    return reg


def _place_batch(
    event: Event, rows: list[RegistrationInput], now: datetime
) -> list[Registration | DomainError]:
    """Place many checked rows on a locked event with a fixed number of queries: the
    seats taken and the people already registered are read once and counted in memory.
    The same rules as ``_place_new``: duplicates by email or NIP, capacity, unit quota."""
    taken = placement.taken(event.id)
    by_unit = dict(
        db.session.execute(
            db.select(Registration.unit_id, func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == CONFIRMED,
                Registration.role == EventRole.PARTICIPANT,
            )
            .group_by(Registration.unit_id)
        ).all()
    )
    active = db.session.execute(
        db.select(Registration.id, Registration.email, Registration.nip).where(
            Registration.event_id == event.id, Registration.status != CANCELLED
        )
    ).all()
    emails = {email: reg_id for reg_id, email, _nip in active}
    nips = {nip: reg_id for reg_id, _email, nip in active if nip}
    results: list[Registration | DomainError] = []
    for data in rows:
        existing_id = emails.get(data.email) or (nips.get(data.nip) if data.nip else None)
        if existing_id is not None:  # -1: an earlier row of this same batch
            results.append(
                DuplicateRegistration(
                    str(_l("Orang ini sudah terdaftar di kegiatan ini (email atau NIP sama).")),
                    existing_id=existing_id if existing_id > 0 else None,
                )
            )
            continue
        reg = Registration(
            event_id=event.id,
            name=data.name,
            email=data.email,
            phone=data.phone or None,
            nip=data.nip or None,
            employment_status=data.employment_status,
            position=data.position,
            unit_id=data.unit_id,
            institution=data.institution or None,
            role=EventRole(data.role),
        )
        reason = None
        if reg.counts_against_capacity:
            reason = _refusal(event, taken, by_unit.get(data.unit_id, 0), data.unit_id)
        if reason is None:
            reg.status, reg.confirmed_at = CONFIRMED, now
            if reg.counts_against_capacity:
                taken += 1
                by_unit[data.unit_id] = by_unit.get(data.unit_id, 0) + 1
        elif event.waitlist:
            reg.status, reg.waitlisted_at = WAITLISTED, now
        else:
            results.append(reason)
            continue
        emails[data.email] = -1
        if data.nip:
            nips[data.nip] = -1
        results.append(reg)
    return results


def register_many(
    event_id: int,
    rows: list[RegistrationInput],
    *,
    now: datetime,
    actor: User,
    send_mail: bool = True,
    deliver: bool = True,
) -> list[Registration | DomainError]:
    """Organizer import: place already-checked rows in order, in ONE locked transaction.

    Each row becomes a Registration or the DomainError that refused it (duplicate, full
    without waiting list); refused rows do not stop the others. Raises NotFound or
    RegistrationClosed for the whole batch. Commits; mails are delivered afterwards, or,
    with ``deliver=False``, left queued in the outbox for ``mail.send_pending`` (a large
    import should not hold the request while a thousand messages are sent one by one).
    """

    def work(event: Event | None):
        if event is None:
            raise NotFound(str(_l("Kegiatan tidak ditemukan.")))
        if problem := window_problem(event, now, by_organizer=True):
            raise problem
        promoted = _fill_from_waitlist(event, now)
        results = _place_batch(event, rows, now)
        placed = [r for r in results if isinstance(r, Registration)]
        db.session.add_all(placed)
        db.session.flush()
        for reg in placed:
            audit.record(actor, "registration.create", reg, status=str(reg.status), source="import")
        mail_ids = []
        if send_mail:
            positions = waitlist_positions(event.id)
            queued = [
                mail.queue_registration_mail(
                    r, f"registration.{r.status}", flush=False, position=positions.get(r.id)
                )
                for r in placed
            ]
            queued += [
                mail.queue_registration_mail(r, "registration.promoted", flush=False)
                for r in promoted
            ]
            db.session.flush()
            mail_ids = [m.id for m in queued]
        return results, mail_ids

    results, mail_ids = run_locked(event_id, work)
    if deliver:
        mail.dispatch(mail_ids)
    return results


def register(
    event_id: int,
    data: RegistrationInput,
    *,
    now: datetime,
    user: User | None = None,
    actor: User | None = None,
    by_organizer: bool = False,
    send_mail: bool = True,
) -> Outcome:
    """Register a person for an event, in its own locked transaction (commits).

    Places the registration confirmed when a seat and the unit's quota allow, else on
    the waiting list when the event has one. Raises ValidationError for bad input,
    NotFound, RegistrationNotOpen/RegistrationClosed outside the window,
    DuplicateRegistration (and re-sends the manage link to the existing registration),
    EventFull or UnitQuotaFull when there is no room and no waiting list.
    """
    placed = place(
        event_id,
        data,
        now=now,
        user_id=user.id if user is not None else None,
        actor=actor,
        by_organizer=by_organizer,
        send_mail=send_mail,
    )
    return Outcome(_attach(placed.values), placed.promoted, placed.position, placed.mail_ids)


def place(
    event_id: int,
    data: RegistrationInput,
    *,
    now: datetime,
    user_id: int | None = None,
    actor=None,
    by_organizer: bool = False,
    send_mail: bool = True,
    manager=None,
) -> Placed:
    """``register`` without building the ORM object (the API answers from the row).

    ``actor`` and ``manager`` are a User or anything with its ``id`` and ``role`` (the
    API's token identity). With ``manager``, the event must be one they manage
    (``events.can_manage``, read with the lock), else NotFound as for a missing event:
    the API then reads the event once."""
    data = validate_registration(data, today=to_wib(now).date())
    values = _new_row(data, user_id)
    mail_row = mail.registration_mail_row(data.email) if send_mail else None
    actor_id = actor.id if actor is not None else None
    params = {
        "event_id": event_id,
        "email": data.email,
        "nip": data.nip or None,
        "unit_id": data.unit_id,
    }

    def work(conn) -> Placed:  # Core statements: no ORM bookkeeping around them
        locked = placement.lock_for_placement(conn, params)
        if locked is None or (manager is not None and not can_manage(manager, locked[0])):
            raise NotFound(str(_l("Kegiatan tidak ditemukan.")))
        event, counts = locked
        if problem := window_problem(event, now, by_organizer=by_organizer):
            raise problem
        return _place_new(
            conn, event, counts, values, now, params=params, actor_id=actor_id, mail_row=mail_row
        )

    try:
        placed = run_on_connection(work)
    except DuplicateRegistration as exc:
        if send_mail and exc.existing_id is not None:
            _send_manage_link(exc.existing_id)
        raise
    mail.dispatch(placed.mail_ids)
    return placed


def _send_manage_link(registration_id: int) -> None:
    """Queue, commit and deliver the manage-link mail for a registration.

    Queued in a write transaction of its own: on SQLite a transaction that reads and then
    writes fails at once ("database is locked") when another process wrote in between,
    which a form sent twice at the same moment makes likely."""

    def work() -> int | None:
        reg = db.session.get(Registration, registration_id)
        if reg is None:
            return None
        return mail.queue_registration_mail(reg, "registration.manage_link").id

    queued_id = run_in_write_transaction(work)
    if queued_id is not None:
        mail.dispatch([queued_id])


# --- changing a registration --------------------------------------------------


def cancel(registration_id: int, *, now: datetime, actor: User | None = None) -> Outcome:
    """Cancel a registration (locked transaction, commits) and promote from the waiting list.

    Cancelling an already cancelled registration changes nothing. Raises NotFound.
    """
    reg_event = db.session.scalar(
        db.select(Registration.event_id).where(Registration.id == registration_id)
    )
    if reg_event is None:
        raise NotFound(str(_l("Pendaftaran tidak ditemukan.")))

    def work(event: Event) -> Outcome:
        reg = db.session.get(Registration, registration_id, populate_existing=True)
        if reg.status == CANCELLED:
            return Outcome(reg)
        reg.status, reg.cancelled_at, reg.waitlisted_at = CANCELLED, now, None
        db.session.flush()
        audit.record(actor, "registration.cancel", reg)
        promoted = _fill_from_waitlist(event, now)
        for p in promoted:
            audit.record(actor, "registration.promote", p, reason="cancellation")
        outcome = Outcome(reg, promoted)
        outcome.mail_ids = _queue_mails([reg], "registration.cancelled")
        outcome.mail_ids += _queue_mails(promoted, "registration.promoted")
        return outcome

    outcome = run_locked(reg_event, work)
    mail.dispatch(outcome.mail_ids)
    return outcome


def restore(registration_id: int, *, now: datetime, actor: User) -> Outcome:
    """Organizer: bring a cancelled registration back, placed like a new one (confirmed if
    there is room, else at the end of the waiting list). Raises NotFound, DuplicateRegistration
    (the person registered again meanwhile), EventFull/UnitQuotaFull without a waiting list."""
    reg_event = db.session.scalar(
        db.select(Registration.event_id).where(Registration.id == registration_id)
    )
    if reg_event is None:
        raise NotFound(str(_l("Pendaftaran tidak ditemukan.")))

    def work(event: Event) -> Outcome:
        reg = db.session.get(Registration, registration_id, populate_existing=True)
        if reg.status != CANCELLED:
            return Outcome(reg, waitlist_position=waitlist_position(reg))
        if window_problem(event, now, by_organizer=True) is not None:
            raise window_problem(event, now, by_organizer=True)
        if _find_duplicate(event.id, reg.email, reg.nip, exclude_id=reg.id) is not None:
            raise DuplicateRegistration(
                str(_l("Orang ini sudah memiliki pendaftaran aktif lain di kegiatan ini."))
            )
        promoted = _fill_from_waitlist(event, now)
        reason = _room(event, reg.unit_id) if reg.counts_against_capacity else None
        reg.cancelled_at = None
        if reason is None:
            reg.status, reg.confirmed_at = CONFIRMED, now
        elif event.waitlist:
            reg.status, reg.waitlisted_at = WAITLISTED, now
        else:
            raise reason
        db.session.flush()
        audit.record(actor, "registration.restore", reg, status=str(reg.status))
        outcome = Outcome(reg, promoted, waitlist_position(reg))
        outcome.mail_ids = _queue_mails([reg], f"registration.{reg.status}")
        outcome.mail_ids += _queue_mails(promoted, "registration.promoted")
        return outcome

    outcome = run_locked(reg_event, work)
    mail.dispatch(outcome.mail_ids)
    return outcome


def promote_by_hand(registration_id: int, *, now: datetime, actor: User) -> Outcome:
    """Organizer: confirm one waiting registration out of turn.

    The organizer may pass over the unit quota (it is their rule to bend), but never the
    capacity: when the event is full this raises EventFull and the organizer must raise
    the capacity first. Raises NotFound, DomainError when not on the waiting list.
    """
    reg_event = db.session.scalar(
        db.select(Registration.event_id).where(Registration.id == registration_id)
    )
    if reg_event is None:
        raise NotFound(str(_l("Pendaftaran tidak ditemukan.")))

    def work(event: Event) -> Outcome:
        reg = db.session.get(Registration, registration_id, populate_existing=True)
        if reg.status != WAITLISTED:
            raise DomainError(
                str(_l("Pendaftaran ini tidak berada di daftar tunggu.")), code="not_waitlisted"
            )
        if (
            reg.counts_against_capacity
            and event.capacity is not None
            and placement.taken(event.id) >= event.capacity
        ):
            raise EventFull(str(_l("Kapasitas kegiatan penuh. Naikkan kapasitas terlebih dahulu.")))
        _confirm(reg, now)
        audit.record(actor, "registration.promote", reg, reason="manual")
        outcome = Outcome(reg, [reg])
        outcome.mail_ids = _queue_mails([reg], "registration.promoted")
        return outcome

    outcome = run_locked(reg_event, work)
    mail.dispatch(outcome.mail_ids)
    return outcome


def fill_from_waitlist(event_id: int, *, now: datetime, actor: User | None = None) -> Outcome:
    """Promote whoever now fits (after the organizer raised the capacity or a quota).

    Locked transaction, commits. Returns an Outcome whose ``promoted`` lists them."""

    def work(event: Event | None):
        if event is None:
            raise NotFound(str(_l("Kegiatan tidak ditemukan.")))
        promoted = _fill_from_waitlist(event, now)
        for p in promoted:
            audit.record(actor, "registration.promote", p, reason="capacity")
        return promoted, _queue_mails(promoted, "registration.promoted")

    promoted, mail_ids = run_locked(event_id, work)
    mail.dispatch(mail_ids)
    return Outcome(registration=None, promoted=promoted, mail_ids=mail_ids)


def resend_manage_link(event_id: int, email: str) -> None:
    """Send the manage link again to the active registration with this email, if any.

    Says nothing about whether one exists (the caller shows the same message either way).
    """
    try:
        email = normalise_email(email)
    except ValidationError:
        return
    reg = db.session.scalar(
        db.select(Registration).where(
            Registration.event_id == event_id,
            Registration.email == email,
            placement.ACTIVE,
        )
    )
    if reg is not None:
        _send_manage_link(reg.id)
