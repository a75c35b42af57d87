"""Recording who did what."""

from workshop.models import AuditLog, User, db


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
