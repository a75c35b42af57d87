"""The organizer's registration pages: list, actions, on-behalf registration, mail, import.

Every route needs an organizer or admin who manages the event (someone else's event, or
a registration, mail or import of another event, is a 404). The registration services
commit in their own locked transaction; the views commit only what they change
themselves (an import batch being stored or cancelled).
"""

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from workshop import clock, errors
from workshop.extensions import db
from workshop.labels import ROLE_LABELS, STATUS_LABELS
from workshop.models import MailStatus, OutgoingMail, Registration, RegistrationStatus
from workshop.organizer.registration_forms import (
    EMPLOYMENT_LABELS,
    MAIL_KIND_LABELS,
    MAIL_STATUS_LABELS,
    ActionForm,
    ImportForm,
    OnBehalfForm,
    SearchForm,
)
from workshop.permissions import managed_event_or_404, organizer_required
from workshop.services import importing, mail, registration_lists, units
from workshop.services import registration as registrations
from workshop.services.errors import DomainError, ValidationError
from workshop.services.registration import DuplicateRegistration

bp = Blueprint("organizer_registrations", __name__)

PER_PAGE = 50
MAIL_CHUNK = 20
REPORT_PER_PAGE = 100


@bp.context_processor
def labels():
    return {
        "status_labels": STATUS_LABELS,
        "role_labels": ROLE_LABELS,
        "employment_labels": EMPLOYMENT_LABELS,
        "mail_status_labels": MAIL_STATUS_LABELS,
        "mail_kind_labels": MAIL_KIND_LABELS,
    }


def _safe_next(value: str | None, default: str) -> str:
    """A relative path on this site, or ``default``."""
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and urlsplit(value).netloc == ""
    ):
        return value
    return default


def _registration_or_404(event_id: int, registration_id: int):
    reg = registration_lists.event_registration(event_id, registration_id)
    if reg is None:
        abort(404)
    return reg


def _names(regs) -> str:
    return ", ".join(r.name for r in regs)


# --- list and row actions ---------------------------------------------------


@bp.get("/events/<int:event_id>/registrations", endpoint="index")
@organizer_required
def index(event_id: int):
    event = managed_event_or_404(event_id)
    search = SearchForm(request.args)
    page = registration_lists.search(
        event.id,
        q=search.q.data or "",
        status=search.status.data or None,
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
    )
    return render_template(
        "organizer_registrations/index.html",
        event=event,
        search=search,
        page=page,
        counts=registration_lists.counts(event.id),
        seats_left=registrations.seats_left(event),
        positions=registration_lists.waitlist_positions(event.id),
        mail_counts=registration_lists.mail_counts(event.id),
        action=ActionForm(),
        here=request.full_path if request.query_string else request.path,
    )


def _row_action(event_id: int, registration_id: int, run):
    """Check the event and the registration, run the service, flash, go back to the list."""
    event = managed_event_or_404(event_id)
    reg = _registration_or_404(event.id, registration_id)
    form = ActionForm()
    back = _safe_next(form.next.data, url_for(".index", event_id=event.id))
    if not form.validate_on_submit():
        flash(_("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."), "danger")
        return redirect(back)
    try:
        message = run(reg)
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        flash(message, "success")
    return redirect(back)


def _promoted_note(outcome) -> str:
    if not outcome.promoted:
        return ""
    return " " + _(
        "Dipindahkan otomatis dari daftar tunggu menjadi Terdaftar: %(names)s",
        names=_names(outcome.promoted),
    )


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/cancel", endpoint="cancel")
@organizer_required
def cancel(event_id: int, registration_id: int):
    def run(reg):
        if reg.status == RegistrationStatus.CANCELLED:
            return _("Pendaftaran %(name)s sudah dibatalkan sebelumnya.", name=reg.name)
        outcome = registrations.cancel(reg.id, now=clock.now(), actor=current_user)
        return _(
            "Pendaftaran %(name)s dibatalkan.", name=outcome.registration.name
        ) + _promoted_note(outcome)

    return _row_action(event_id, registration_id, run)


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/restore", endpoint="restore")
@organizer_required
def restore(event_id: int, registration_id: int):
    def run(reg):
        outcome = registrations.restore(reg.id, now=clock.now(), actor=current_user)
        restored = outcome.registration
        if restored.status == RegistrationStatus.WAITLISTED:
            text = _(
                "Pendaftaran %(name)s dipulihkan ke daftar tunggu (urutan %(n)d).",
                name=restored.name,
                n=outcome.waitlist_position or 0,
            )
        else:
            text = _("Pendaftaran %(name)s dipulihkan: Terdaftar.", name=restored.name)
        return text + _promoted_note(outcome)

    return _row_action(event_id, registration_id, run)


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/promote", endpoint="promote")
@organizer_required
def promote(event_id: int, registration_id: int):
    def run(reg):
        outcome = registrations.promote_by_hand(reg.id, now=clock.now(), actor=current_user)
        return _(
            "%(name)s dipindahkan dari daftar tunggu menjadi Terdaftar.",
            name=outcome.registration.name,
        )

    return _row_action(event_id, registration_id, run)


# --- registering someone on their behalf ------------------------------------


@bp.route("/events/<int:event_id>/registrations/new", methods=["GET", "POST"], endpoint="new")
@organizer_required
def new(event_id: int):
    event = managed_event_or_404(event_id)
    form = OnBehalfForm(units=units.active_units())
    duplicate_email = None
    if form.validate_on_submit():
        try:
            outcome = registrations.register(
                event.id,
                form.registration_input(),
                now=clock.now(),
                by_organizer=True,
                actor=current_user,
            )
        except ValidationError as exc:
            form.apply_service_errors(exc.fields)
        except DuplicateRegistration:
            duplicate_email = (form.email.data or "").strip()
            form.form_errors.append(
                _(
                    "Orang ini sudah memiliki pendaftaran aktif di kegiatan ini (email atau NIP "
                    "sama). Tautan pengelolaan pendaftaran telah dikirim ulang ke email yang "
                    "terdaftar."
                )
            )
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            reg = outcome.registration
            role = ROLE_LABELS[reg.role]
            if reg.status == RegistrationStatus.WAITLISTED:
                text = _(
                    "%(name)s didaftarkan sebagai %(role)s dan masuk daftar tunggu (urutan %(n)d).",
                    name=reg.name,
                    role=role,
                    n=outcome.waitlist_position or 0,
                )
            else:
                text = _(
                    "%(name)s didaftarkan sebagai %(role)s: Terdaftar.", name=reg.name, role=role
                )
            flash(text + _promoted_note(outcome), "success")
            return redirect(url_for(".index", event_id=event.id))
    elif request.method == "POST":
        form.form_errors.append(_("Sesi formulir sudah kedaluwarsa. Kirim ulang formulir."))
    has_errors = bool(form.errors or form.form_errors)
    return render_template(
        "organizer_registrations/new.html",
        event=event,
        form=form,
        duplicate_email=duplicate_email,
        has_errors=has_errors,
    ), 422 if has_errors else 200


# --- mail -------------------------------------------------------------------


@bp.get("/events/<int:event_id>/registrations/mail", endpoint="mail")
@organizer_required
def mail_list(event_id: int):
    event = managed_event_or_404(event_id)
    reg = None
    if (reg_id := request.args.get("registration", type=int)) is not None:
        reg = _registration_or_404(event.id, reg_id)
    status = request.args.get("status", "")
    page = registration_lists.event_mails(
        event.id,
        status=status or None,
        registration_id=reg.id if reg else None,
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
    )
    return render_template(
        "organizer_registrations/mail.html",
        event=event,
        page=page,
        reg=reg,
        status=status,
        mail_counts=registration_lists.mail_counts(event.id),
        action=ActionForm(),
        here=request.full_path if request.query_string else request.path,
    )


@bp.post("/events/<int:event_id>/registrations/mail/<int:mail_id>/resend", endpoint="mail_resend")
@organizer_required
def mail_resend(event_id: int, mail_id: int):
    event = managed_event_or_404(event_id)
    message = registration_lists.event_mail(event.id, mail_id)
    if message is None:
        abort(404)
    form = ActionForm()
    back = _safe_next(form.next.data, url_for(".mail", event_id=event.id))
    if not form.validate_on_submit():
        flash(_("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."), "danger")
        return redirect(back)
    message = mail.resend(message.id)
    if message.status == MailStatus.SENT:
        flash(_("Email ke %(to)s telah dikirim ulang.", to=message.to), "success")
    else:
        flash(
            _(
                "Email ke %(to)s belum terkirim (%(error)s). Email akan dicoba lagi otomatis.",
                to=message.to,
                error=message.last_error or "-",
            ),
            "warning",
        )
    return redirect(back)


@bp.post("/events/<int:event_id>/registrations/mail/send", endpoint="mail_send_pending")
@organizer_required
def mail_send_pending(event_id: int):
    """Send the event's waiting mails now (for a few seconds), without waiting for cron."""
    event = managed_event_or_404(event_id)
    back = url_for(".mail", event_id=event.id)
    if not ActionForm().validate_on_submit():
        flash(_("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."), "danger")
        return redirect(back)
    _deliver_for(registration_lists.pending_mail_ids(event.id), _mail_seconds())
    counts = registration_lists.mail_counts(event.id)
    if counts["pending"]:
        flash(
            _(
                "Sebagian email sudah dikirim; %(n)d masih menunggu. Tekan Kirim sekarang lagi, "
                "atau biarkan tugas terjadwal mengirimnya.",
                n=counts["pending"],
            ),
            "info",
        )
    else:
        flash(_("Semua email yang menunggu sudah diproses."), "success")
    return redirect(back)


# --- import -----------------------------------------------------------------


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES") or importing.MAX_BYTES)


def _too_large_message() -> str:
    return _(
        "Berkas terlalu besar. Ukuran maksimum berkas impor adalah %(mb)s MB; bagi "
        "daftar menjadi beberapa berkas.",
        mb=f"{_max_bytes() / 1024 / 1024:g}",
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    """A body over MAX_CONTENT_LENGTH is refused by Flask before the view: say why."""
    message = _too_large_message()
    if _wants_json():
        return jsonify({"error": "too_large", "message": message}), 413
    event_id = (request.view_args or {}).get("event_id")
    back = url_for(".import_upload", event_id=event_id) if event_id else url_for("public.index")
    return render_template(
        "organizer_registrations/too_large.html", message=message, back=back
    ), 413


@bp.errorhandler(CSRFError)
def csrf_failed(exc):
    """The upload script reads JSON; everything else gets the app's error page."""
    if _wants_json():
        return jsonify(
            {
                "error": "csrf",
                "message": _(
                    "Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu unggah lagi."
                ),
            }
        ), 400
    return errors.handle_http_exception(exc)


def _upload_page(event, form, error: str | None, status: int):
    if _wants_json():
        return jsonify({"error": "invalid_file", "message": error}), status
    return render_template(
        "organizer_registrations/import_upload.html",
        event=event,
        form=form,
        error=error,
        max_mb=f"{_max_bytes() / 1024 / 1024:g}",
        max_bytes=_max_bytes(),
        max_rows=int(current_app.config.get("IMPORT_MAX_ROWS") or importing.MAX_ROWS),
        batches=importing.recent_batches(event.id),
        unit_list=units.active_units(),
    ), status


@bp.route(
    "/events/<int:event_id>/registrations/import", methods=["GET", "POST"], endpoint="import_upload"
)
@organizer_required
def import_upload(event_id: int):
    event = managed_event_or_404(event_id)
    form = ImportForm()
    if request.method == "GET":
        return _upload_page(event, form, None, 200)
    if not form.validate_on_submit():
        return _upload_page(
            event,
            form,
            _("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu unggah lagi."),
            400,
        )
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return _upload_page(event, form, _("Pilih berkas CSV atau XLSX terlebih dahulu."), 422)
    data = upload.stream.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        return _upload_page(event, form, _too_large_message(), 413)
    try:
        batch, ignored = importing.create_batch(
            event.id,
            filename=upload.filename,
            data=data,
            actor=current_user,
            now=clock.now(),
            max_rows=int(current_app.config.get("IMPORT_MAX_ROWS") or importing.MAX_ROWS),
        )
    except importing.ImportFileError as exc:
        return _upload_page(event, form, exc.message, 422)
    db.session.commit()
    if ignored:
        flash(
            _("Kolom yang tidak dikenali dan diabaikan: %(names)s.", names=", ".join(ignored[:10])),
            "info",
        )
    target = url_for(".import_report", event_id=event.id, batch_id=batch.id)
    if _wants_json():
        return jsonify({"redirect": target})
    return redirect(target)


@bp.get("/events/<int:event_id>/registrations/import/contoh.csv", endpoint="import_template")
@organizer_required
def import_template(event_id: int):
    managed_event_or_404(event_id)
    return Response(
        importing.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=contoh-impor.csv"},
    )


def _batch_or_404(event_id: int, batch_id: int):
    batch = importing.event_batch(event_id, batch_id)
    if batch is None:
        abort(404)
    return batch


REPORT_FILTERS = ("all", "created", "duplicate", "invalid", "confirmed", "waitlisted", "refused")


@bp.get("/events/<int:event_id>/registrations/import/<int:batch_id>", endpoint="import_report")
@organizer_required
def import_report(event_id: int, batch_id: int):
    event = managed_event_or_404(event_id)
    batch = _batch_or_404(event.id, batch_id)
    show = request.args.get("show", "all")
    show = show if show in REPORT_FILTERS else "all"
    rows = [
        r for r in batch.rows if show == "all" or r["status"] == show or r.get("result") == show
    ]
    pages = max((len(rows) + REPORT_PER_PAGE - 1) // REPORT_PER_PAGE, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return render_template(
        "organizer_registrations/import_report.html",
        event=event,
        batch=batch,
        counts=importing.summary(batch),
        show=show,
        pages=pages,
        page_number=page,
        rows=rows[(page - 1) * REPORT_PER_PAGE : page * REPORT_PER_PAGE],
        units_by_id={u.id: u for u in units.all_units()},
        action=ActionForm(),
    )


@bp.post(
    "/events/<int:event_id>/registrations/import/<int:batch_id>/confirm", endpoint="import_confirm"
)
@organizer_required
def import_confirm(event_id: int, batch_id: int):
    event = managed_event_or_404(event_id)
    batch = _batch_or_404(event.id, batch_id)
    report = url_for(".import_report", event_id=event.id, batch_id=batch.id)
    if not ActionForm().validate_on_submit():
        flash(_("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."), "danger")
        return redirect(report)
    try:
        batch, mail_ids = importing.apply_batch(batch.id, now=clock.now(), actor=current_user)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(report)
    counts = importing.summary(batch)
    flash(
        _(
            "Impor selesai: %(confirmed)d terdaftar, %(waitlisted)d masuk daftar tunggu. Email "
            "konfirmasi sedang dikirim; statusnya dapat dilihat di halaman Email.",
            confirmed=counts["confirmed"],
            waitlisted=counts["waitlisted"],
        ),
        "success",
    )
    if counts["refused"]:
        flash(
            _("%(n)d baris ditolak saat diimpor; lihat alasannya di tabel.", n=counts["refused"]),
            "warning",
        )
    response = redirect(report)
    _deliver_after_response(response, mail_ids)
    return response


def _mail_seconds() -> float:
    return float(current_app.config.get("IMPORT_MAIL_SECONDS", 10))


def _deliver_for(mail_ids: list[int], seconds: float) -> int:
    """Deliver in small chunks until done or ``seconds`` have passed; returns how many were
    tried. The rest stays queued for ``flask send-mail`` (cron) and the Email page."""
    deadline = time.monotonic() + seconds
    tried = 0
    for start in range(0, len(mail_ids), MAIL_CHUNK):
        if time.monotonic() >= deadline:
            break
        chunk = mail_ids[start : start + MAIL_CHUNK]
        mail.deliver(chunk)
        _forget_mails()
        tried += len(chunk)
    return tried


def _forget_mails() -> None:
    """Drop the sent messages and their registrations from the session: every commit
    expires what the session holds, which would make a long run quadratic."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, OutgoingMail | Registration):
            db.session.expunge(obj)


def _deliver_after_response(response, mail_ids: list[int]) -> None:
    """Send the import's queued mails once the answer has gone out: by the process's
    sender thread (MAIL_DELIVERY=background), by `flask send-mail` (outbox), or, inline,
    after the response for at most IMPORT_MAIL_SECONDS (default 10), so that the
    organizer does not wait for them and the worker is not held for minutes."""
    if not mail_ids:
        return
    if current_app.config.get("MAIL_DELIVERY", "background") != "inline":
        mail.dispatch(mail_ids)  # the process's sender thread, or left for `send-mail`
        return
    app = current_app._get_current_object()
    seconds = _mail_seconds()

    @response.call_on_close
    def deliver():
        with app.app_context():
            _deliver_for(mail_ids, seconds)


@bp.post(
    "/events/<int:event_id>/registrations/import/<int:batch_id>/cancel", endpoint="import_cancel"
)
@organizer_required
def import_cancel(event_id: int, batch_id: int):
    event = managed_event_or_404(event_id)
    batch = _batch_or_404(event.id, batch_id)
    if not ActionForm().validate_on_submit():
        flash(_("Sesi formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi."), "danger")
        return redirect(url_for(".import_report", event_id=event.id, batch_id=batch.id))
    if importing.cancel_batch(batch):
        db.session.commit()
        flash(_("Impor dibatalkan. Tidak ada data yang disimpan."), "info")
        return redirect(url_for(".import_upload", event_id=event.id))
    flash(_("Impor ini sudah diproses sebelumnya dan tidak dapat dibatalkan."), "warning")
    return redirect(url_for(".import_report", event_id=event.id, batch_id=batch.id))
