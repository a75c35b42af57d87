"""The statements that count an event's seats and place one new registration in it, for
``services.registration`` (which holds the rules: who is confirmed, who waits, who is
refused).

The seats taken, a unit's share and the waiting list are counted from the placement's
covering index. A new registration is placed in three round trips on PostgreSQL: the
token's lookup (with BEGIN), the event's lock with the counts sent behind it
(``lock_for_placement``), then its row, its audit row and its mail in one statement with
the COMMIT (``insert_new``); see ``services.pipeline``. On SQLite the transaction began
with the database's write lock, and the statements run in the process.
"""

import sqlalchemy as sa
from sqlalchemy import func

from workshop.models import (
    AuditLog,
    Event,
    EventRole,
    OutgoingMail,
    Registration,
    RegistrationStatus,
    db,
)
from workshop.services import pipeline

CONFIRMED, WAITLISTED, CANCELLED = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)

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
ACTIVE = _R.status != _written(CANCELLED.value)


# The placement index's columns after the event and the status. Every count here reads
# an event's rows of one status in this order, which changes nothing counted: then only
# the placement index serves it without a sort. Unordered, the unique index of the
# event's active emails serves it as well (its condition, not cancelled, follows from any
# other status), and PostgreSQL, planning a statement on tables without statistics (a new
# database; the app's connections keep a plan until the next ANALYZE), chose it: every
# active registration of the event read, from the table, for each new one. With a LIMIT
# (the seats up to the capacity) the order also keeps the plan, made once for any event
# and limit, to the index instead of reading the table from its start.
_INDEX_ORDER = (_R.role, _R.unit_id, _R.waitlisted_at)


def _confirmed_participants(*conditions) -> sa.Select:
    """The confirmed participants of the ``event_id`` parameter (the seats taken), and
    ``conditions``, in the placement index's order; counted from that covering index."""
    return (
        sa.select(sa.literal(1))
        .where(
            _R.event_id == sa.bindparam("event_id"),
            _R.status == _written(CONFIRMED.value),
            _R.role == _written(EventRole.PARTICIPANT.value),
            *conditions,
        )
        .order_by(*_INDEX_ORDER)
    )


def _counted(rows: sa.Select) -> sa.ScalarSelect:
    return sa.select(func.count()).select_from(rows.subquery()).scalar_subquery()


_TAKEN = sa.select(_counted(_confirmed_participants()).label("taken"))
_UNIT_TAKEN = sa.select(
    _counted(_confirmed_participants(_R.unit_id == sa.bindparam("unit_id"))).label("unit_taken")
)


def taken(event_id: int, unit_id: int | None = None) -> int:
    if unit_id is None:
        return db.session.scalar(_TAKEN, {"event_id": event_id})
    return db.session.scalar(_UNIT_TAKEN, {"event_id": event_id, "unit_id": unit_id})


# --- placing ----------------------------------------------------------------

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
    (0 when it has none: there is nothing to compare them with). In the index's order
    (``_INDEX_ORDER``): unordered, on a table where one earlier event's people were most
    rows, the plan read the table from the start until it had found the limit's worth of
    this event's rows — past every row of that earlier event, for each new
    registration."""
    bound = (
        sa.select(func.coalesce(limit, 0))
        .where(Event.id == sa.bindparam("event_id"))
        .correlate(None)
        .scalar_subquery()
    )
    return _counted(_confirmed_participants(*conditions).limit(bound))


# The waiting list's length and its last place, in one pass over the placement's index
# (in its order, ``_INDEX_ORDER``).
_WAITING_ROWS = (
    sa.select(_R.waitlisted_at)
    .where(_R.event_id == sa.bindparam("event_id"), _R.status == _written(WAITLISTED.value))
    .order_by(*_INDEX_ORDER)
    .subquery()
)
_WAITING = sa.select(
    func.count().label("waiting"), func.max(_WAITING_ROWS.c.waitlisted_at).label("last_waiting")
).subquery("waiting_list")


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
                _R.event_id == sa.bindparam("event_id"), ACTIVE, _R.email == sa.bindparam("email")
            )
            .scalar_subquery(),
            sa.select(_R.id)
            .where(_R.event_id == sa.bindparam("event_id"), ACTIVE, _R.nip == sa.bindparam("nip"))
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
# (``PLACEMENT``) after promoting people from the waiting list.
_LOCK_EVENT = pipeline.Pipelined(
    sa.select(*_EVENT_COLUMNS).where(Event.id == sa.bindparam("event_id")).with_for_update()
)
PLACEMENT = _placement()
PIPELINED_PLACEMENT = pipeline.Pipelined(PLACEMENT)
EVENT_AND_PLACEMENT = pipeline.Pipelined(_placement(*_EVENT_COLUMNS))

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


def insert_new(
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


def lock_for_placement(conn, params: dict):
    """Lock the event; (event, counts) as rows (``params``: those of ``PLACEMENT``), or
    None when there is no such event."""
    if conn.dialect.name == "sqlite":
        [events] = pipeline.run(conn, (EVENT_AND_PLACEMENT, params))
        return (events[0], events[0]) if events else None
    events, counts = pipeline.run(conn, (_LOCK_EVENT, params), (PIPELINED_PLACEMENT, params))
    return (events[0], counts[0]) if events else None
