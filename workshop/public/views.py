"""Public pages: the event list and event details."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from workshop import clock
from workshop.extensions import db
from workshop.models import Event
from workshop.organizer.forms import ConfirmForm
from workshop.services import events
from workshop.services import registration as registrations
from workshop.services.events import Phase

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    now = clock.now()
    listed = events.public_events(now)
    phases = {e.id: events.event_phase(e, now) for e in listed}
    return render_template(
        "public/index.html",
        upcoming=[e for e in listed if phases[e.id] in (Phase.RUNNING, Phase.UPCOMING)],
        past=[e for e in listed if phases[e.id] not in (Phase.RUNNING, Phase.UPCOMING)],
        phases=phases,
    )


@bp.get("/events/<int:event_id>")
def event_detail(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None or not events.can_view(current_user, event):
        abort(404)
    can_manage = events.can_manage(current_user, event)
    now = clock.now()
    return render_template(
        "public/event_detail.html",
        event=event,
        registration_problem=registrations.window_problem(event, now),
        seats_left=registrations.seats_left(event),
        phase=events.event_phase(event, clock.now()),
        agenda_days=events.agenda_by_day(event),
        can_manage=can_manage,
        confirm=ConfirmForm() if can_manage else None,
    )
