"""Registration: the rules for capacity, per-unit quota, waiting list and cancellation.

Every function that changes who holds a seat runs in its own transaction holding the
event's write lock (``locking.run_locked``) and commits it, so that parallel requests
on several servers never confirm more people than the capacity or a unit's quota.
Speakers and committee members are registered too, but take no participant seat and
count against no unit quota. Mails are queued in the same transaction and delivered
after the commit (``services.mail``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, make_transient_to_detached

from workshop.models import (
    AuditLog,
    EmploymentStatus,
    Event,
    EventRole,
    EventStatus,
    MailStatus,
    OutgoingMail,
    Registration,
    RegistrationStatus,
    Unit,
    User,
    db,
    utcnow,
)
from workshop.models.registration import new_secret
from workshop.services import audit, mail, pipeline
from workshop.services.errors import DomainError, NotFound, ValidationError
from workshop.services.events import can_manage
from workshop.services.identity import (
    IdentityError,
    check_nip,
    check_pppk_number,
    nip_digits,
    normalise_phone,
)
from workshop.services.locking import run_in_write_transaction, run_locked, run_on_connection
from workshop.services.users import normalise_email
from workshop.timeutil import to_wib

NAME_MAX = 200
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
class RegistrationInput:
    """What a person types (or an import row holds), before checking."""

    name: str
    email: str
    employment_status: str
    phone: str = ""
    nip: str = ""
    position: str = ""
    unit_id: int | None = None
    institution: str = ""
    role: str = EventRole.PARTICIPANT


@dataclass
class Outcome:
    """The result of a change: the registration and any waiting registrations promoted."""

    registration: Registration | None
    promoted: list[Registration] = field(default_factory=list)
    waitlist_position: int | None = None
    mail_ids: list[int] = field(default_factory=list)


# --- checking input ---------------------------------------------------------


def validate_registration(data: RegistrationInput, today: date) -> RegistrationInput:
    """Check and normalise every field; raise ValidationError with a message per field.

    The name is kept exactly as typed (titles, degrees, single names, any script), only
    trimmed. Email syntax is checked. The phone becomes +62…. PNS need a valid NIP,
    PPPK an 18-digit NI PPPK, non-ASN none. Exactly one of a known active unit or an
    outside institution.
    """
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(str(message))

    name = (data.name or "").strip()
    if not name:
        add("name", _l("Nama wajib diisi."))
    elif len(name) > NAME_MAX:
        add("name", _l("Nama paling banyak %(max)d karakter.", max=NAME_MAX))

    email = (data.email or "").strip()
    if not email:
        add("email", _l("Email wajib diisi."))
    else:
        try:
            email = normalise_email(email)
        except ValidationError:
            add("email", _l("Alamat email tidak valid, contoh: nama@muaraenimkab.go.id."))

    phone = None
    if (data.phone or "").strip():
        try:
            phone = normalise_phone(data.phone)
        except IdentityError as exc:
            add("phone", exc.args[0])

    status = (data.employment_status or "").strip().lower()
    nip = None
    if status not in set(EmploymentStatus):
        add("employment_status", _l("Pilih status kepegawaian: PNS, PPPK, atau non-ASN."))
    elif status == EmploymentStatus.PNS:
        if not (data.nip or "").strip():
            add("nip", _l("NIP wajib diisi untuk PNS."))
        else:
            try:
                nip = check_nip(data.nip, today)
            except IdentityError as exc:
                add("nip", exc.args[0])
    elif status == EmploymentStatus.PPPK:
        if not (data.nip or "").strip():
            add("nip", _l("NI PPPK wajib diisi untuk PPPK."))
        else:
            try:
                nip = check_pppk_number(data.nip)
            except IdentityError as exc:
                add("nip", exc.args[0])
    elif (data.nip or "").strip():
        add("nip", _l("Non-ASN tidak memiliki NIP; kosongkan kolom ini atau ubah status."))

    position = (data.position or "").strip()
    if len(position) > NAME_MAX:
        add("position", _l("Jabatan paling banyak %(max)d karakter.", max=NAME_MAX))

    institution = (data.institution or "").strip()
    if data.unit_id is not None and institution:
        add("institution", _l("Pilih unit kerja atau isi nama instansi lain, bukan keduanya."))
    elif data.unit_id is None and not institution:
        add("unit_id", _l("Pilih unit kerja, atau pilih instansi lain dan tulis namanya."))
    elif data.unit_id is not None:
        unit = db.session.get(Unit, data.unit_id)  # an import's rows share a few units
        if unit is None or not unit.active:
            add("unit_id", _l("Unit kerja tidak dikenal."))
    elif len(institution) > NAME_MAX:
        add("institution", _l("Nama instansi paling banyak %(max)d karakter.", max=NAME_MAX))

    role = (data.role or EventRole.PARTICIPANT).strip().lower()
    if role not in set(EventRole):
        add("role", _l("Peran tidak dikenal."))

    if errors:
        raise ValidationError(errors)
    return RegistrationInput(
        name=name,
        email=email,
        employment_status=status,
        phone=phone or "",
        nip=nip or "",
        position=position,
        unit_id=data.unit_id,
        institution=institution if data.unit_id is None else "",
        role=role,
    )


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

_R = Registration.__table__.c


def _written(value: str) -> sa.ColumnElement:
    """A status or role written in the statement, not sent as a parameter (only the
    app's own constants, never user input). SQLite uses a partial index only when the
    query states its condition as written; PostgreSQL plans a prepared statement once
    for any parameter values (the app's connections use generic plans), and with
    ``status = $1`` it must assume the commonest status: on a table where one event's
    confirmed people are most rows, or one never analyzed, it chose to read the whole
    table to count an event's waiting list — for every new registration, holding the
    event's lock, slower as the table grew. With the status written in, the planner
    knows what it looks for and keeps to the placement's index."""
    return sa.literal_column(f"'{value}'")


# An active registration: the unique indexes' condition, written out.
_ACTIVE = _R.status != _written(CANCELLED.value)


def _confirmed_participants(*conditions) -> sa.Select:
    """The confirmed participants of the ``event_id`` parameter (the seats taken), and
    ``conditions``; counted from the covering index."""
    return sa.select(sa.literal(1)).where(
        _R.event_id == sa.bindparam("event_id"),
        _R.status == _written(CONFIRMED.value),
        _R.role == _written(EventRole.PARTICIPANT.value),
        *conditions,
    )


def _counted(rows: sa.Select) -> sa.ScalarSelect:
    return sa.select(func.count()).select_from(rows.subquery()).scalar_subquery()


_TAKEN = sa.select(_counted(_confirmed_participants()))
_UNIT_TAKEN = sa.select(_counted(_confirmed_participants(_R.unit_id == sa.bindparam("unit_id"))))


def _taken(event_id: int, unit_id: int | None = None) -> int:
    if unit_id is None:
        return db.session.scalar(_TAKEN, {"event_id": event_id})
    return db.session.scalar(_UNIT_TAKEN, {"event_id": event_id, "unit_id": unit_id})


def _room(event: Event, unit_id: int | None) -> DomainError | None:
    """None when one more participant from ``unit_id`` fits; else the reason. Counts
    only what the event limits."""
    taken = _taken(event.id) if event.capacity is not None else 0
    unit_taken = (
        _taken(event.id, unit_id) if event.unit_quota is not None and unit_id is not None else 0
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


def seats_left(event: Event) -> int | None:
    """Free participant seats, or None when the capacity is unlimited."""
    if event.capacity is None:
        return None
    return max(event.capacity - _taken(event.id), 0)


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
    if event.capacity is not None and _taken(event.id) >= event.capacity:
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
        elif event.capacity is not None and _taken(event.id) >= event.capacity:
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
        Registration.event_id == event_id, _ACTIVE, or_(*conditions)
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


# The locked event a new registration is placed by.
_EVENT_COLUMNS = (
    Event.id,
    Event.owner_id,
    Event.title,
    Event.status,
    Event.capacity,
    Event.unit_quota,
    Event.waitlist,
    Event.registration_opens_at,
    Event.registration_closes_at,
    Event.ends_at,
)


def _seats_up_to(limit, *conditions) -> sa.ScalarSelect:
    """The seats taken (with ``conditions``), counted up to the event's ``limit`` column
    (0 when it has none: there is nothing to compare them with).

    Ordered as the placement's index is after its event, status and role, which changes
    nothing counted: PostgreSQL's plan, made once for any event and any limit, then
    reads the index. Unordered, on a table where one earlier event's people were most
    rows, it read the table from the start until it had found the limit's worth of this
    event's rows — past every row of that earlier event, for each new registration."""
    bound = (
        sa.select(func.coalesce(limit, 0))
        .where(Event.id == sa.bindparam("event_id"))
        .correlate(None)
        .scalar_subquery()
    )
    return _counted(
        _confirmed_participants(*conditions).order_by(_R.unit_id, _R.waitlisted_at).limit(bound)
    )


# The waiting list's length and its last place, in one pass over the placement's index.
_WAITING = (
    sa.select(func.count().label("waiting"), func.max(_R.waitlisted_at).label("last_waiting"))
    .where(_R.event_id == sa.bindparam("event_id"), _R.status == _written(WAITLISTED.value))
    .subquery("waiting_list")
)


def _placement(*event_columns) -> sa.Select:
    """What placing one new person needs besides the event (with ``event_columns``: and
    those of the event): an active registration with the same email or NIP (each
    through its unique index), the participant seats taken, those of the person's unit
    (both from the covering index), how many wait and the last one's waiting time.

    The seats are counted only up to the capacity, and the unit's up to its quota, all
    the rules compare them with; an event without a capacity counts none. On
    PostgreSQL, whose index-only scans still visit the rows inserted since the last
    VACUUM, counting 1,200 registrations was a quarter of the server's work for each new
    one. The limits are read by the statement itself, so that it needs nothing from the
    event read before it (on PostgreSQL they travel together)."""
    counts = (
        sa.func.coalesce(
            sa.select(_R.id)
            .where(
                _R.event_id == sa.bindparam("event_id"), _ACTIVE, _R.email == sa.bindparam("email")
            )
            .scalar_subquery(),
            sa.select(_R.id)
            .where(_R.event_id == sa.bindparam("event_id"), _ACTIVE, _R.nip == sa.bindparam("nip"))
            .scalar_subquery(),
        ).label("duplicate_id"),
        _seats_up_to(Event.capacity).label("taken"),
        _seats_up_to(Event.unit_quota, _R.unit_id == sa.bindparam("unit_id")).label("unit_taken"),
        _WAITING.c.waiting,
        _WAITING.c.last_waiting,
    )
    if not event_columns:
        return sa.select(*counts).select_from(_WAITING)
    return (
        sa.select(*event_columns, *counts)
        .select_from(Event.__table__.join(_WAITING, sa.true()))
        .where(Event.id == sa.bindparam("event_id"))
    )


# PostgreSQL: lock the event row, and count in a statement of its own sent with it (counts
# read in the locking statement would come from its snapshot, taken before it waited for
# the lock). SQLite: the transaction began with the database's write lock (BEGIN
# IMMEDIATE), so the event and the counts are one statement. Either may count again
# (``_PLACEMENT``) after promoting people from the waiting list.
_LOCK_EVENT = pipeline.Pipelined(
    sa.select(*_EVENT_COLUMNS).where(Event.id == sa.bindparam("event_id")).with_for_update()
)
_PLACEMENT = _placement()
_PIPELINED_PLACEMENT = pipeline.Pipelined(_PLACEMENT)
_EVENT_AND_PLACEMENT = pipeline.Pipelined(_placement(*_EVENT_COLUMNS))

# The columns a new registration's audit row and mail are written with (the registration:
# all of its own but the id); ``audit.row`` and ``mail.registration_mail`` give them.
_AUDIT_COLUMNS = ("at", "user_id", "action", "object_type", "details")
_MAIL_COLUMNS = (
    "to",
    "locale",
    "body_text",
    "params",
    "subject",
    "kind",
    "attachments",
    "status",
    "attempts",
    "created_at",
)


def _bound(table: sa.Table, columns, prefix: str = "") -> dict:
    """``columns`` of ``table``, each as a parameter of its name with ``prefix``."""
    return {name: sa.bindparam(prefix + name, type_=table.c[name].type) for name in columns}


def _registration_columns() -> list[str]:
    return [c.name for c in Registration.__table__.c if c.name != "id"]


# SQLite: the three rows, each its own statement (no INSERT in a WITH there).
_INSERT_REGISTRATION = pipeline.Pipelined(
    sa.insert(Registration.__table__)
    .values(_bound(Registration.__table__, _registration_columns()))
    .returning(_R.id)
)
_INSERT_AUDIT = pipeline.Pipelined(
    sa.insert(AuditLog.__table__).values(_bound(AuditLog.__table__, (*_AUDIT_COLUMNS, "object_id")))
)
_INSERT_MAIL = pipeline.Pipelined(
    sa.insert(OutgoingMail.__table__)
    .values(_bound(OutgoingMail.__table__, (*_MAIL_COLUMNS, "registration_id")))
    .returning(OutgoingMail.__table__.c.id)
)


def _insert_all_at_once(with_mail: bool) -> sa.Select:
    """PostgreSQL: the registration, its audit row and its mail inserted by one statement
    (a WITH of three INSERTs; the audit row and the mail take the new registration's id),
    a round trip to the server instead of three. Answers (id, mail_id); the parameters
    are the registration's columns, and the audit row's and the mail's prefixed with
    ``audit_`` and ``mail_``."""
    registration = Registration.__table__
    new = (
        sa.insert(registration)
        .values(_bound(registration, _registration_columns()))
        .returning(_R.id)
        .cte("new_registration")
    )
    new_id = sa.select(new.c.id).scalar_subquery()
    audit_row = sa.insert(AuditLog.__table__).values(
        {**_bound(AuditLog.__table__, _AUDIT_COLUMNS, "audit_"), "object_id": new_id}
    )
    statement = sa.select(new.c.id).add_cte(audit_row.cte("new_audit"))
    if not with_mail:
        return statement.add_columns(sa.null().label("mail_id"))
    mail_row = (
        sa.insert(OutgoingMail.__table__)
        .values(
            {**_bound(OutgoingMail.__table__, _MAIL_COLUMNS, "mail_"), "registration_id": new_id}
        )
        .returning(OutgoingMail.__table__.c.id)
        .cte("new_mail")
    )
    return statement.add_columns(mail_row.c.id.label("mail_id")).select_from(
        new.join(mail_row, sa.true())
    )


_INSERT_ALL_WITH_MAIL, _INSERT_ALL_WITHOUT_MAIL = (
    pipeline.Pipelined(_insert_all_at_once(True)),
    pipeline.Pipelined(_insert_all_at_once(False)),
)


def _insert_new(
    conn, values: dict, audit_row: dict, mail_row: dict | None, *, commit: bool
) -> tuple[int, int | None]:
    """Insert a new registration (``values``: every column but the id), its audit row and
    its mail (None: none), both naming it; (its id, the mail's id). With ``commit`` the
    transaction is committed with them (on PostgreSQL in the same round trip)."""
    if conn.dialect.name == "postgresql":
        params = {**values, **{f"audit_{k}": v for k, v in audit_row.items()}}
        if mail_row is not None:
            params.update({f"mail_{k}": v for k, v in mail_row.items()})
        statement = _INSERT_ALL_WITH_MAIL if mail_row is not None else _INSERT_ALL_WITHOUT_MAIL
        [[inserted]] = pipeline.run(conn, (statement, params), commit=commit)
        return tuple(inserted)
    # SQLite runs in the process: three statements cost no round trips.
    [[(registration_id,)]] = pipeline.run(conn, (_INSERT_REGISTRATION, values))
    pipeline.run(
        conn,
        (_INSERT_AUDIT, {**audit_row, "object_id": registration_id}),
        commit=commit and mail_row is None,
    )
    if mail_row is None:
        return registration_id, None
    [[(mail_id,)]] = pipeline.run(
        conn, (_INSERT_MAIL, {**mail_row, "registration_id": registration_id}), commit=commit
    )
    return registration_id, mail_id


def _lock_for_placement(conn, params: dict):
    """Lock the event; (event, counts) as rows (``params``: those of ``_PLACEMENT``), or
    None when there is no such event."""
    if conn.dialect.name == "sqlite":
        [events] = pipeline.run(conn, (_EVENT_AND_PLACEMENT, params))
        return (events[0], events[0]) if events else None
    events, counts = pipeline.run(conn, (_LOCK_EVENT, params), (_PIPELINED_PLACEMENT, params))
    return (events[0], counts[0]) if events else None


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
    ``_PLACEMENT`` read that gave ``counts``) to the locked ``event``:
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
            counts = conn.execute(_PLACEMENT, params).one()
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
        values["id"], mail_id = _insert_new(conn, values, audit_row, mail_row, commit=not promoted)
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
    taken = _taken(event.id)
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
        locked = _lock_for_placement(conn, params)
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
            and _taken(event.id) >= event.capacity
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
            _ACTIVE,
        )
    )
    if reg is not None:
        _send_manage_link(reg.id)


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
