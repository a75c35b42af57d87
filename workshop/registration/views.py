"""Registration pages: the public form, the private manage page with the ticket, "My events".

The manage page is opened by its secret link alone (no account needed), so it, its
cancel step and the ticket files (QR image, PDF) are never cached, never indexed and never
leak the link as a referrer. The ticket files are addressed by the manage token, never by
the check-in code: a photographed QR opens nothing.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop import clock
from workshop.extensions import db, limiter
from workshop.models import Event, Registration, User
from workshop.registration.forms import ConfirmForm, RegistrationForm, ResendForm
from workshop.services import events, qr, registration_lists, tickets, units
from workshop.services import registration as registrations
from workshop.services.errors import DomainError, ValidationError
from workshop.services.locking import deferred_reads, run_in_write_transaction

bp = Blueprint("registration", __name__)

PRIVATE_ENDPOINTS = {
    "registration.manage",
    "registration.cancel",
    "registration.ticket_png",
    "registration.ticket_svg",
    "registration.ticket_pdf",
}


def _registration_limit() -> str:
    return current_app.config.get("REGISTRATION_RATE_LIMIT", "30 per minute")


def _resend_limit() -> str:
    return current_app.config.get("RESEND_RATE_LIMIT", "5 per minute")


@bp.after_request
def private_headers(response):
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _visible_event_or_404(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not events.can_view(current_user, event):
        abort(404)
    return event


def _registration_form(**kwargs) -> RegistrationForm:
    return RegistrationForm(
        units=units.active_units(),
        logged_in=current_user.is_authenticated,
        **kwargs,
    )


def _own_registration(event: Event) -> Registration | None:
    """The logged-in user's active registration for ``event``, to point them to it."""
    if not current_user.is_authenticated:
        return None
    return next(
        (
            r
            for r in registration_lists.for_person(current_user)
            if r.event_id == event.id and r.status != registrations.CANCELLED
        ),
        None,
    )


def _render_register(
    event: Event,
    form: RegistrationForm,
    resend: ResendForm,
    *,
    problem: DomainError | None = None,
    refusal: str | None = None,
    status: int = 200,
):
    return render_template(
        "registration/register.html",
        event=event,
        form=form,
        resend=resend,
        problem=problem,
        refusal=refusal,
        seats_left=registrations.seats_left(event),
        own=_own_registration(event),
    ), status


@bp.route("/events/<int:event_id>/register", methods=["GET", "POST"])
@limiter.limit(_registration_limit, methods=["POST"])
@deferred_reads
def register(event_id: int):
    event = _visible_event_or_404(event_id)
    now = clock.now()
    if request.method == "GET" and current_user.is_authenticated:
        form = _registration_form(data=RegistrationForm.data_from_user(current_user))
    else:
        form = _registration_form()
    resend = ResendForm(formdata=None)

    problem = registrations.window_problem(event, now)
    if problem is not None:
        # Closed, not yet open, draft or cancelled: say why; accept nothing.
        return _render_register(
            event, form, resend, problem=problem, status=409 if request.method == "POST" else 200
        )
    if not form.validate_on_submit():
        return _render_register(
            event, form, resend, status=422 if request.method == "POST" else 200
        )

    data = form.registration_input()
    if data is None:
        return _render_register(event, form, resend, status=422)
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        outcome = registrations.register(event.id, data, now=now, user=user)
    except ValidationError as exc:
        form.apply_service_errors(exc.fields)
        return _render_register(event, form, resend, status=422)
    except registrations.NotFound:
        abort(404)
    except (registrations.RegistrationNotOpen, registrations.RegistrationClosed) as exc:
        return _render_register(event, form, resend, problem=exc, status=409)
    except DomainError as exc:  # duplicate, event full, unit quota full
        return _render_register(event, form, resend, refusal=exc.message, status=409)

    reg = outcome.registration
    if user is not None and form.save_profile.data:
        user_id, reg_id = user.id, reg.id
        run_in_write_transaction(
            lambda: registration_lists.save_to_profile(
                db.session.get(User, user_id), db.session.get(Registration, reg_id)
            )
        )
    if outcome.waitlist_position is not None:
        flash(
            _(
                "Pendaftaran diterima. Kuota sedang penuh, Anda berada di daftar tunggu "
                "nomor %(n)d. Tautan halaman ini juga dikirim ke email Anda.",
                n=outcome.waitlist_position,
            ),
            "warning",
        )
    else:
        flash(_("Pendaftaran berhasil. Tautan halaman ini juga dikirim ke email Anda."), "success")
    return redirect(url_for("registration.manage", token=reg.manage_token))


@bp.post("/events/<int:event_id>/resend")
@limiter.limit(_resend_limit)
def resend(event_id: int):
    """Send the manage link again. The answer is the same whether or not the email is
    registered, so the form tells nobody who has registered."""
    event = _visible_event_or_404(event_id)
    resend_form = ResendForm()
    email = (resend_form.email.data or "").strip()
    if resend_form.validate_on_submit() and email:
        registrations.resend_manage_link(event.id, email)
        flash(_("Jika email tersebut terdaftar, tautan telah dikirim."), "info")
        return redirect(url_for("registration.register", event_id=event.id) + "#resend")
    if not email:
        resend_form.email.errors = [*resend_form.email.errors, _("Email wajib diisi.")]
    form = _registration_form(
        data=RegistrationForm.data_from_user(current_user)
        if current_user.is_authenticated
        else None,
        formdata=None,
    )
    problem = registrations.window_problem(event, clock.now())
    return _render_register(event, form, resend_form, problem=problem, status=422)


def _registration_or_404(token: str) -> Registration:
    reg = registration_lists.by_manage_token(token)
    if reg is None:
        abort(404)
    return reg


def _render_manage(reg: Registration, template: str, **context):
    return render_template(
        template,
        reg=reg,
        event=reg.event,
        position=registration_lists.waitlist_position(reg),
        can_cancel=registration_lists.self_cancel_allowed(reg, clock.now()),
        manage_url=url_for("registration.manage", token=reg.manage_token, _external=True),
        ticket_problem=tickets.ticket_problem(reg),
        confirm=ConfirmForm(),
        **context,
    )


@bp.get("/r/<token>")
def manage(token: str):
    reg = _registration_or_404(token)
    return _render_manage(reg, "registration/manage.html")


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    """GET asks "are you sure?" (works without JavaScript); POST cancels."""
    reg = _registration_or_404(token)
    if not registration_lists.self_cancel_allowed(reg, clock.now()):
        if reg.status != registrations.CANCELLED:
            flash(
                _(
                    "Pendaftaran ini tidak dapat dibatalkan lagi karena kegiatan sudah "
                    "dimulai, selesai, atau dibatalkan."
                ),
                "warning",
            )
        return redirect(url_for("registration.manage", token=token))
    form = ConfirmForm()
    if form.validate_on_submit():
        registrations.cancel(reg.id, now=clock.now())
        flash(_("Pendaftaran Anda telah dibatalkan. Terima kasih sudah memberi tahu."), "info")
        return redirect(url_for("registration.manage", token=token))
    return _render_manage(reg, "registration/cancel.html")


def _ticket_or_404(token: str) -> Registration:
    """The registration behind a manage token, if it has a valid ticket."""
    reg = _registration_or_404(token)
    if tickets.ticket_problem(reg) is not None:
        abort(404)
    return reg


def _file(data: bytes, content_type: str, filename: str | None = None):
    response = make_response(data)
    response.headers["Content-Type"] = content_type
    if filename is not None:  # ASCII letters, digits and hyphens only: no quoting issues
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/r/<token>/qr.png")
def ticket_png(token: str):
    reg = _ticket_or_404(token)
    return _file(qr.png(reg.check_in_code, scale=10), "image/png")


@bp.get("/r/<token>/qr.svg")
def ticket_svg(token: str):
    reg = _ticket_or_404(token)
    response = _file(qr.svg(reg.check_in_code), "image/svg+xml")
    # Opened on its own, an SVG is a document: let it run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.get("/r/<token>/ticket.pdf")
def ticket_pdf(token: str):
    """The one-page e-ticket in the current UI language."""
    reg = _ticket_or_404(token)
    filename, content_type, data = tickets.ticket_attachment(
        reg, locale=str(get_locale()), organizer=current_app.config["ORGANIZATION_NAME"]
    )
    return _file(data, content_type, filename)


@bp.get("/my/events")
@login_required
def my_events():
    mine = registration_lists.for_person(current_user)
    return render_template(
        "registration/my_events.html",
        registrations=mine,
        positions={r.id: registration_lists.waitlist_position(r) for r in mine},
    )
