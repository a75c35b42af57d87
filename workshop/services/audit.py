"""Recording who did what."""

from workshop.models import AuditLog, User, db, utcnow


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


def row(actor_id: int | None, action: str, object_type: str, object_id: int | None = None,
        **details) -> dict:
    """The same row as ``record`` makes, as the columns of a table insert (no ORM object):
    for hot paths that hold a lock and write it with a statement of their own."""
    return {"at": utcnow(), "user_id": actor_id, "action": action,
            "object_type": object_type, "object_id": object_id, "details": details or None}
