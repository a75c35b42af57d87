"""Recording who did what."""

import sqlalchemy as sa

from workshop.models import AuditLog, User, db

_INSERT = sa.insert(AuditLog.__table__)


def record(actor: User | None, action: str, obj, **details) -> AuditLog:
    """Add an audit row for ``action`` on ``obj`` (flushed with the caller's transaction)."""
    entry = AuditLog(
        user_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        details=details or None,
    )
    db.session.add(entry)
    return entry


def insert(actor_id: int | None, action: str, object_type: str, object_id: int, *,
           _conn=None, **details) -> None:
    """The same row as ``record`` written at once with one statement (no ORM object), in
    the caller's transaction (``_conn``: its connection, when the caller has it at hand):
    for hot paths that hold a lock."""
    row = {"user_id": actor_id, "action": action, "object_type": object_type,
           "object_id": object_id, "details": details or None}
    (_conn or db.session.connection()).execute(_INSERT, row)
