"""Event management for organizers (and admins): list, create, edit, publish, cancel."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workshop import clock
from workshop.extensions import db
from workshop.organizer.forms import ConfirmForm, EventForm
from workshop.permissions import managed_event_or_404, organizer_required
from workshop.services import events, units
from workshop.services import registration as registrations
from workshop.services.errors import InvalidTransition, ValidationError

bp = Blueprint("organizer", __name__)


@bp.get("/events", endpoint="events")
@organizer_required
def event_list():
    managed = events.managed_events(current_user)
    now = clock.now()
    return render_template(
        "organizer/events.html",
        events=managed,
        phases={e.id: events.event_phase(e, now) for e in managed},
        confirm=ConfirmForm(),
    )


def _save(form: EventForm, save):
    """Run ``save(EventInput)`` when the form parses and the rules pass; else map the errors.

    Parse errors and rule errors are shown together, so one submit shows every problem.
    """
    if not form.is_submitted():
        return None
    parsed = form.validate()
    data = form.event_input()
    if not parsed:
        if data is not None:
            try:
                events.validate_event(data)
            except ValidationError as exc:
                form.apply_service_errors(exc.fields)
        return None
    try:
        return save(data)
    except ValidationError as exc:
        form.apply_service_errors(exc.fields)
        return None


def _render_form(form: EventForm, event=None):
    if request.method == "POST":
        form.add_blank_rows()
    status = 422 if form.has_errors else 200
    return render_template("organizer/event_form.html", form=form, event=event), status


@bp.route("/events/new", methods=["GET", "POST"])
@organizer_required
def event_new():
    form = EventForm(units=units.active_units())
    event = _save(form, lambda data: events.create_event(current_user, data))
    if event is not None:
        db.session.commit()
        flash(_("Kegiatan tersimpan sebagai draf. Terbitkan bila sudah siap."), "success")
        return redirect(url_for("public.event_detail", event_id=event.id))
    return _render_form(form)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organizer_required
def event_edit(event_id: int):
    event = managed_event_or_404(event_id)
    form = EventForm(
        units=units.active_units(),
        current_unit=event.unit,
        data=EventForm.data_from_event(event),
    )
    saved = _save(form, lambda data: events.update_event(event, data, current_user))
    if saved is not None:
        db.session.commit()
        flash(_("Kegiatan tersimpan."), "success")
        promoted = registrations.fill_from_waitlist(
            event.id, now=clock.now(), actor=current_user
        ).promoted
        if promoted:
            flash(
                _("%(n)d pendaftar dari daftar tunggu kini terkonfirmasi.", n=len(promoted)), "info"
            )
        return redirect(url_for("public.event_detail", event_id=event.id))
    if form.has_errors:
        db.session.rollback()  # nothing of a refused edit may reach the database
    return _render_form(form, event)


@bp.post("/events/<int:event_id>/publish")
@organizer_required
def event_publish(event_id: int):
    event = managed_event_or_404(event_id)
    if ConfirmForm().validate_on_submit():
        try:
            events.publish_event(event, current_user)
        except InvalidTransition as exc:
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Kegiatan diterbitkan dan kini terlihat oleh publik."), "success")
    return redirect(_back(event))


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@organizer_required
def event_cancel(event_id: int):
    """GET asks for confirmation (works without JavaScript); POST cancels."""
    event = managed_event_or_404(event_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            events.cancel_event(event, current_user)
        except InvalidTransition as exc:
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Kegiatan dibatalkan."), "warning")
        return redirect(url_for("public.event_detail", event_id=event.id))
    return render_template("organizer/event_cancel.html", event=event, form=form)


def _back(event) -> str:
    """Return to the organizer list when the action came from there, else to the event."""
    if request.form.get("back") == "list":
        return url_for("organizer.events")
    return url_for("public.event_detail", event_id=event.id)
