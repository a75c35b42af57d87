"""Events in the JSON API: list, detail, create and partial update."""

from flask import url_for
from flask_babel import gettext as _

from workshop import clock
from workshop.api import schemas
from workshop.api.auth import api_user, organizer_rate_limit, organizer_token_required
from workshop.models import Event, EventStatus, db
from workshop.services import events, registration


def event_or_404(event_id: int, *, manage: bool = False) -> Event:
    """The event if the caller may see it (or, with ``manage``, manage it); else 404.

    Someone else's draft, or someone else's event for a write, is "not found": the API
    does not confirm that it exists.
    """
    event = db.session.get(Event, event_id)
    user = api_user()
    allowed = events.can_manage if manage else events.can_view
    if event is None or not allowed(user, event):
        raise schemas.ApiError(404, _("Kegiatan tidak ditemukan."), "not_found")
    return event


def list_events():
    """Published, finished and cancelled events; plus the caller's drafts (all for admins).

    Days, speakers and agenda are loaded with the events (selectinload) and the counts
    come from grouped queries, so the number of queries does not grow with the list."""
    found = events.api_visible_events(api_user())
    counts = schemas.event_counts([e.id for e in found])
    return schemas.listing([schemas.event_json(e, counts[e.id]) for e in found])


def event_detail(event_id: int):
    return schemas.event_json(event_or_404(event_id))


@organizer_token_required
@organizer_rate_limit
def create_event():
    """Create a draft; with ``"status": "published"`` publish it in the same transaction."""
    values = schemas.parse_event(schemas.json_object(), partial=False)
    status = values.pop("status", EventStatus.DRAFT)
    user = api_user()
    event = events.create_event(user, schemas.new_event_input(values))
    if status == EventStatus.PUBLISHED:
        events.publish_event(event, user)
    db.session.commit()
    location = url_for("api.event_detail", event_id=event.id)
    return schemas.event_json(event), 201, {"Location": location}


@organizer_token_required
@organizer_rate_limit
def update_event(event_id: int):
    """Change the given fields only; ``status`` moves through the allowed transitions."""
    event = event_or_404(event_id, manage=True)
    values = schemas.parse_event(schemas.json_object(), partial=True)
    status = values.pop("status", None)
    user = api_user()
    if values:
        events.update_event(event, schemas.patched_event_input(event, values), user)
    if status is not None:
        events.set_status(event, status, user)
    db.session.commit()
    if values:  # a raised capacity or quota lets waiting people in
        registration.fill_from_waitlist(event.id, now=clock.now(), actor=user)
    return schemas.event_json(event)
