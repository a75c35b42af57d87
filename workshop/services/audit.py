"""Recording who did what."""

from workshop.models import AuditLog, User, db, utcnow


def record(actor: User | None, action: str, obj, **details) -> AuditLog:
    """Add an audit row for ``action`` on ``obj`` (flushed with the caller's transaction)."""
    entry = AuditLog(
        **row(
            actor.id if actor is not None else None,
            action,
            type(obj).__name__.lower(),
            getattr(obj, "id", None),
            **details,
        )
    )
    db.session.add(entry)
    return entry


def row(
    actor_id: int | None, action: str, object_type: str, object_id: int | None = None, **details
) -> dict:
    """An audit row's columns (``record`` adds them as an ORM object; hot paths that hold
    a lock write them with a statement of their own)."""
    return {
        "at": utcnow(),
        "user_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details or None,
    }
