"""Certificate pages: settings and preview, issuing and revoking, single and bulk downloads
(organizers of the event and admins), the participant's download, public verification.

Organizer routes: anonymous visitors log in, other roles get 403, another organizer's
event (or a certificate of another event) is 404. The participant's PDF is addressed by
the registration's secret manage token, like the e-ticket. The bulk ZIP is streamed one
certificate at a time; the print PDF is built into a spooled file inside the streamed
response, so the browser sees the download start at once.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from workshop import clock
from workshop.certificates import verify_rate_limit
from workshop.certificates.forms import ActionForm, RevokeForm, SettingsForm, VerifyForm
from workshop.extensions import db
from workshop.models import Certificate, Event, Registration
from workshop.permissions import managed_event_or_404, organizer_required
from workshop.services import certificate_files, certificates, registration_lists
from workshop.services.certificate_pdf import DEFAULT_LOGO, days_text, render_certificate_pdf
from workshop.services.certificate_settings import (
    check_settings,
    input_from_settings,
    save_settings,
)
from workshop.services.certificates import Standing
from workshop.services.errors import DomainError, ValidationError
from workshop.timeutil import to_wib

bp = Blueprint("certificates", __name__)

PER_PAGE = 100
ESTIMATED_PDF_BYTES = 85_000  # one certificate in the ZIP, for the progress bar
ESTIMATED_PAGE_BYTES = 12_000  # one page of the print PDF (fonts and logo are shared)
PRIVATE_ENDPOINTS = {"certificates.participant_pdf"}
NOINDEX_ENDPOINTS = {
    "certificates.verify",
    "certificates.verify_form",
    "certificates.participant_pdf",
}
STANDINGS = [s.value for s in Standing]


@bp.after_request
def private_headers(response):
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint in NOINDEX_ENDPOINTS:  # people's names stay out of search engines
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_context_processor
def participant_helpers():
    """``certificate_status(reg)`` for the manage page and My events."""
    return {"certificate_status": lambda reg: certificates.status_for(reg, clock.now())}


def government() -> str:
    return current_app.config["ORGANIZATION_NAME"]


def verify_url(code: str) -> str:
    """The absolute address of the verification page: BASE_URL when it is set (the public
    address, even when the organizer works on the office LAN), else this request's host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for("certificates.verify", code=code)
    return url_for("certificates.verify", code=code, _external=True)


def _pdf(data: bytes, filename: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _certificate_response(cert: Certificate) -> Response:
    data = certificate_files.certificate_pdf(cert, government=government(), verify_url=verify_url)
    return _pdf(data, certificate_files.certificate_filename(cert.number, cert.registration.name))


def _certificate_or_404(event: Event, certificate_id: int) -> Certificate:
    cert = db.session.get(Certificate, certificate_id)
    if cert is None or cert.event_id != event.id:
        abort(404)
    return cert


# --- settings and preview -------------------------------------------------------------


def _example_number(event: Event, values) -> str:
    try:
        return certificates.format_number(
            values, getattr(values, "next_sequence", None) or 1, event
        )
    except (KeyError, IndexError, ValueError):
        return ""


def _render_settings(event: Event, form: SettingsForm, settings, status: int = 200):
    start = to_wib(event.starts_at)
    return render_template(
        "certificates/settings.html",
        event=event,
        form=form,
        settings=settings,
        example=_example_number(event, settings),
        month=certificates.ROMAN[start.month - 1],
        year=start.year,
        next_seq=f"{settings.next_sequence or 1:03d}",
        day_count=len(event.days),
        has_logo=settings.logo is not None,
    ), status


@bp.route("/organizer/events/<int:event_id>/certificates/settings", methods=["GET", "POST"])
@organizer_required
def settings(event_id: int):
    event = managed_event_or_404(event_id)
    stored = certificates.settings_for(event)
    if request.method == "GET":
        form = SettingsForm(data=SettingsForm.data_from_input(input_from_settings(stored)))
        return _render_settings(event, form, stored)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _render_settings(event, form, stored, 422)
    try:
        save_settings(
            event,
            form.settings_input(stored.sign_date),
            actor=current_user,
            today=to_wib(clock.now()).date(),
        )
    except ValidationError as exc:
        form.apply_service_errors(exc.fields)
        db.session.rollback()
        return _render_settings(event, form, certificates.settings_for(event), 422)
    db.session.commit()
    flash(_("Pengaturan sertifikat tersimpan."), "success")
    return redirect(url_for(".settings", event_id=event.id))


@bp.route("/organizer/events/<int:event_id>/certificates/preview.pdf", methods=["GET", "POST"])
@organizer_required
def preview(event_id: int):
    """The certificate with sample data: GET from the stored settings, POST from the form
    as typed (nothing is stored, nothing issued)."""
    event = managed_event_or_404(event_id)
    stored = certificates.settings_for(event)
    values = stored
    if request.method == "POST":
        form = SettingsForm()
        if not form.validate_on_submit():
            return _render_settings(event, form, stored, 422)
        data = form.settings_input(stored.sign_date)
        if data.logo is None and not data.remove_logo:
            data.logo, data.logo_type = stored.logo, stored.logo_type
        try:
            values = check_settings(event, data, today=to_wib(clock.now()).date())
        except ValidationError as exc:
            form.apply_service_errors(exc.fields)
            return _render_settings(event, form, stored, 422)
    pdf = render_certificate_pdf(
        certificate_files.sample_data(
            event,
            values,
            sequence=stored.next_sequence or 1,
            government=government(),
            verify_url=verify_url,
        )
    )
    db.session.rollback()  # nothing of a preview reaches the database
    return _pdf(pdf, "pratinjau-sertifikat.pdf", inline=True)


@bp.get("/organizer/events/<int:event_id>/certificates/logo")
@organizer_required
def logo(event_id: int):
    """The logo the certificates use: the uploaded one, else the built-in default."""
    event = managed_event_or_404(event_id)
    stored = certificates.settings_for(event)
    if stored.logo is not None:
        data, kind = stored.logo, stored.logo_type or "image/png"
    else:
        data, kind = DEFAULT_LOGO.read_bytes(), "image/png"
    return Response(data, mimetype=kind, headers={"Cache-Control": "no-store"})


# --- the certificates of an event ---------------------------------------------------------


def _revoked_by_registration(event_id: int) -> dict[int, list[Certificate]]:
    rows = db.session.scalars(
        db.select(Certificate)
        .where(Certificate.event_id == event_id, Certificate.revoked_at.is_not(None))
        .order_by(Certificate.sequence)
    )
    result: dict[int, list[Certificate]] = {}
    for cert in rows:
        result.setdefault(cert.registration_id, []).append(cert)
    return result


@bp.get("/organizer/events/<int:event_id>/certificates")
@organizer_required
def index(event_id: int):
    event = managed_event_or_404(event_id)
    rows = certificates.overview(event, clock.now())
    tally = {s: 0 for s in STANDINGS}
    for _reg, status in rows:
        tally[status.standing] += 1
    wanted = request.args.get("standing", "")
    shown = [r for r in rows if r[1].standing == wanted] if wanted in STANDINGS else rows
    pages = max(1, -(-len(shown) // PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return render_template(
        "certificates/index.html",
        event=event,
        settings=certificates.settings_for(event),
        rows=shown[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(shown),
        page=page,
        pages=pages,
        standing=wanted if wanted in STANDINGS else "",
        tally=tally,
        counts=certificates.counts(event.id),
        revoked=_revoked_by_registration(event.id),
        action=ActionForm(),
    )


@bp.post("/organizer/events/<int:event_id>/certificates/issue")
@organizer_required
def issue(event_id: int):
    event = managed_event_or_404(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = certificates.issue_certificates(event.id, actor=current_user, now=clock.now())
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        if result.issued:
            flash(
                _(
                    "%(n)d sertifikat diterbitkan (nomor %(first)s sampai %(last)s). "
                    "%(already)d sudah terbit sebelumnya; %(not_eligible)d belum atau tidak "
                    "memenuhi syarat.",
                    n=len(result.issued),
                    first=result.issued[0].number,
                    last=result.issued[-1].number,
                    already=result.already,
                    not_eligible=result.not_eligible,
                ),
                "success",
            )
        else:
            flash(
                _(
                    "Tidak ada sertifikat baru yang diterbitkan. %(already)d sudah terbit; "
                    "%(not_eligible)d belum atau tidak memenuhi syarat.",
                    already=result.already,
                    not_eligible=result.not_eligible,
                ),
                "info",
            )
    return redirect(url_for(".index", event_id=event.id))


@bp.post("/organizer/events/<int:event_id>/certificates/reissue/<int:registration_id>")
@organizer_required
def reissue(event_id: int, registration_id: int):
    """Issue again (with the next number) for a registration whose certificate was revoked."""
    event = managed_event_or_404(event_id)
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = certificates.issue_certificates(
            event.id, actor=current_user, now=clock.now(), registration_id=reg.id
        )
    except DomainError as exc:
        flash(exc.message, "danger")
    else:
        if result.issued:
            flash(
                _(
                    "Sertifikat baru untuk %(name)s diterbitkan dengan nomor %(number)s.",
                    name=reg.name,
                    number=result.issued[0].number,
                ),
                "success",
            )
        elif result.already:
            flash(_("%(name)s sudah memiliki sertifikat yang berlaku.", name=reg.name), "info")
        else:
            flash(_("%(name)s belum memenuhi syarat kehadiran.", name=reg.name), "warning")
    return redirect(url_for(".index", event_id=event.id))


@bp.get("/organizer/events/<int:event_id>/certificates/<int:certificate_id>.pdf")
@organizer_required
def certificate_pdf(event_id: int, certificate_id: int):
    event = managed_event_or_404(event_id)
    cert = _certificate_or_404(event, certificate_id)
    if not cert.is_valid:
        abort(404)
    return _certificate_response(cert)


@bp.route(
    "/organizer/events/<int:event_id>/certificates/<int:certificate_id>/revoke",
    methods=["GET", "POST"],
)
@organizer_required
def revoke(event_id: int, certificate_id: int):
    """GET asks for the reason (works without JavaScript); POST revokes."""
    event = managed_event_or_404(event_id)
    cert = _certificate_or_404(event, certificate_id)
    form = RevokeForm()
    status = 200
    if request.method == "POST" and cert.is_valid:
        if form.validate_on_submit():
            try:
                certificates.revoke(
                    cert, reason=form.reason.data or "", actor=current_user, now=clock.now()
                )
            except ValidationError as exc:
                form.reason.errors = [*form.reason.errors, *exc.fields.get("reason", [])]
                db.session.rollback()
            else:
                db.session.commit()
                flash(
                    _(
                        "Sertifikat %(number)s dicabut. Nomornya tidak dipakai lagi.",
                        number=cert.number,
                    ),
                    "success",
                )
                return redirect(url_for(".index", event_id=event.id))
        status = 422
    return render_template("certificates/revoke.html", event=event, cert=cert, form=form), status


# --- bulk downloads ------------------------------------------------------------------------


@bp.get("/organizer/events/<int:event_id>/certificates/download")
@organizer_required
def download(event_id: int):
    event = managed_event_or_404(event_id)
    return render_template(
        "certificates/download.html", event=event, count=certificate_files.count_valid(event.id)
    )


def _bulk(event: Event):
    certs = certificate_files.valid_certificates(event.id)
    if not certs:
        flash(_("Belum ada sertifikat yang terbit untuk kegiatan ini."), "warning")
        return None, None
    items = certificate_files.event_items(
        event, certs, government=government(), verify_url=verify_url
    )
    return certs, items


def _bulk_headers(filename: str, count: int, estimate: int) -> dict:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Certificate-Count": str(count),
        "X-Estimated-Size": str(estimate),
    }


@bp.get("/organizer/events/<int:event_id>/certificates/certificates.zip")
@organizer_required
def download_zip(event_id: int):
    """One PDF per valid certificate, streamed as the ZIP is written."""
    event = managed_event_or_404(event_id)
    certs, items = _bulk(event)
    if certs is None:
        return redirect(url_for(".download", event_id=event.id))
    stream = stream_with_context(certificate_files.zip_stream(items))
    headers = _bulk_headers(
        f"sertifikat-kegiatan-{event.id}.zip", len(certs), len(certs) * ESTIMATED_PDF_BYTES
    )
    return Response(stream, mimetype="application/zip", headers=headers)


@bp.get("/organizer/events/<int:event_id>/certificates/print.pdf")
@organizer_required
def download_print(event_id: int):
    """All valid certificates as the pages of one PDF, for printing."""
    event = managed_event_or_404(event_id)
    certs, items = _bulk(event)
    if certs is None:
        return redirect(url_for(".download", event_id=event.id))
    title = _("Sertifikat – %(title)s", title=event.title)

    def generate():
        spool, _size = certificate_files.print_pdf((data for _cert, data in items), title)
        yield from certificate_files.read_chunks(spool)

    headers = _bulk_headers(
        f"sertifikat-kegiatan-{event.id}-cetak.pdf",
        len(certs),
        150_000 + len(certs) * ESTIMATED_PAGE_BYTES,
    )
    return Response(stream_with_context(generate()), mimetype="application/pdf", headers=headers)


# --- the participant -----------------------------------------------------------------------


@bp.get("/r/<token>/certificate.pdf")
def participant_pdf(token: str):
    """The participant's own certificate, once issued (revoked or not issued: 404)."""
    reg = registration_lists.by_manage_token(token)
    if reg is None:
        abort(404)
    status = certificates.status_for(reg, clock.now())
    if status.standing != Standing.ISSUED or status.certificate is None:
        abort(404)
    return _certificate_response(status.certificate)


# --- public verification -------------------------------------------------------------------


@bp.get("/verify")
def verify_form():
    form = VerifyForm(request.args)
    code = (form.code.data or "").strip()
    if code:
        return redirect(url_for(".verify", code=code))
    return render_template("certificates/verify_form.html", form=form)


@bp.get("/verify/<code>")
@verify_rate_limit
def verify(code: str):
    """SAH/VALID, DICABUT/REVOKED or TIDAK DITEMUKAN/NOT FOUND (404), in both languages.
    Shows only what the certificate itself shows, without the NIP."""
    cert = certificates.verify(code)
    context = {"cert": cert, "code": code, "form": VerifyForm(formdata=None)}
    if cert is None:
        return render_template("certificates/verify.html", **context), 404
    days = cert.event.day_dates or [to_wib(cert.event.starts_at).date()]
    context.update(
        date_id=days_text(days, "id"), date_en=days_text(days, "en"), government=government()
    )
    if cert.revoked_at is not None:
        revoked = [to_wib(cert.revoked_at).date()]
        context.update(revoked_id=days_text(revoked, "id"), revoked_en=days_text(revoked, "en"))
    return render_template("certificates/verify.html", **context)
