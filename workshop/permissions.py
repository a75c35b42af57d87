"""Route guards shared by the blueprints. The rules themselves live in services."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from workshop.models import Event, Role, db
from workshop.services.events import can_manage


def role_required(*roles: Role):
    """Log in first (redirect), then the user's role must be one of ``roles`` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = role_required(Role.ADMIN, Role.ORGANIZER)
admin_required = role_required(Role.ADMIN)


def managed_event_or_404(event_id: int) -> Event:
    """The event if the current user manages it; someone else's event is a 404."""
    event = db.session.get(Event, event_id)
    if event is None or not can_manage(current_user, event):
        abort(404)
    return event
