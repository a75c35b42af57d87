"""The door (presensi): the check-in page, its JSON endpoints, and door staff assignment.

The page scans with the camera, takes codes typed by a handheld scanner, and finds people
by name; all three post to the JSON endpoints below (session + CSRF header). The rules
live in ``workshop.services.checkin``; these views parse, check permission and answer.
"""

import re
from functools import wraps

from flask import (
    Blueprint,
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
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from workshop import clock, errors, throttle
from workshop.checkin.forms import AssignStaffForm, RemoveStaffForm, ScanForm, SearchForm
from workshop.extensions import db
from workshop.formatting import date_range, long_date, short_date, wib_time
from workshop.labels import ROLE_LABELS, STATUS_LABELS
from workshop.models import (
    CheckinMethod,
    Event,
    Registration,
    Role,
    User,
)
from workshop.permissions import managed_event_or_404, organizer_required, role_required
from workshop.services import checkin
from workshop.services.checkin import Scan, ScanResult
from workshop.services.errors import DomainError
from workshop.services.events import can_manage
from workshop.services.locking import deferred_reads
from workshop.timeutil import to_wib

bp = Blueprint("checkin", __name__)

# Endpoints that answer JSON, errors included (the page's script reads them).
JSON_ENDPOINTS = {
    "checkin.scan",
    "checkin.search",
    "checkin.checkin_registration",
    "checkin.stats",
    "checkin.undo",
}
NONCE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")  # crypto.randomUUID() and the like
POLL_SECONDS = 5
RECENT_LIMIT = 20

METHOD_LABELS = {
    CheckinMethod.CAMERA: _l("Kamera"),
    CheckinMethod.SCANNER: _l("Pemindai"),
    CheckinMethod.SEARCH: _l("Pencarian"),
    CheckinMethod.API: _l("API"),
}
# green / amber / red on the page; each also has its own icon and heading.
TONES = {
    ScanResult.OK: "ok",
    ScanResult.ALREADY: "warn",
    ScanResult.NOT_EVENT_DAY: "warn",
    ScanResult.NOT_CONFIRMED: "warn",
    ScanResult.CANCELLED: "error",
    ScanResult.WRONG_EVENT: "error",
    ScanResult.NOT_FOUND: "error",
}
DOOR_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.STAFF)


# --- errors: JSON for the page's script, the usual pages elsewhere ---------------------


def _wants_json() -> bool:
    return request.endpoint in JSON_ENDPOINTS


@bp.errorhandler(HTTPException)
def handle_http_exception(exc: HTTPException):
    if not _wants_json():
        return errors.handle_http_exception(exc)
    status = exc.code or 500
    message = errors.MESSAGES.get(status, exc.description)
    if isinstance(exc, CSRFError):
        message = _("Sesi halaman sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.")
        response = errors.json_error(status, message, "csrf")
    else:
        response = errors.json_error(status, message)
    for key, value in exc.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response


@bp.errorhandler(Exception)
def handle_unexpected(exc: Exception):
    if not _wants_json():
        return errors.handle_unexpected(exc)
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return errors.json_error(500, errors.MESSAGES[500])


# --- permission --------------------------------------------------------------------


def _door_event(event_id: int) -> Event:
    """The event if the current user may run its door: unknown (or a draft they may not
    see) 404, not allowed 403. (The blueprint's error handler answers JSON for the JSON
    endpoints.)"""
    try:
        return checkin.door_event(current_user, event_id)
    except DomainError as exc:
        abort(exc.status)


def _open_door(event_id: int, now, code: str | None = None) -> checkin.Door:
    """The door a scan goes through (with the scanned code's registration), by the same
    rule as _door_event (404 / 403)."""
    try:
        return checkin.open_door(current_user, event_id, now, code)
    except DomainError as exc:
        abort(exc.status)


def json_login_required(view):
    """Like login_required, but anonymous callers get 401 JSON instead of a redirect."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return wrapped


def _actor() -> User:
    return current_user._get_current_object()


# --- JSON shapes -------------------------------------------------------------------


def _registration_json(reg: checkin.DoorRegistration) -> dict:
    return {
        "id": reg.id,
        "name": reg.name,
        "unit": reg.affiliation,
        "role": str(reg.role),
        "role_label": str(ROLE_LABELS.get(reg.role, reg.role)),
    }


def _event_days_text(event: Event) -> str:
    dates = event.day_dates
    if len(dates) <= 3:
        return ", ".join(long_date(d) for d in dates)
    return date_range(event.starts_at, event.ends_at)


def _detail(door: checkin.Door, result: Scan, raw_code: str | None) -> str:
    """One line under the headline that tells the door what to do next."""
    row = result.checkin
    if result.result == ScanResult.OK:
        return ""
    if result.result == ScanResult.ALREADY and row is not None:
        if row.scanned_by is not None:
            return _(
                "Tercatat pukul %(time)s oleh %(name)s.",
                time=wib_time(row.checked_in_at),
                name=row.scanned_by.name,
            )
        return _("Tercatat pukul %(time)s.", time=wib_time(row.checked_in_at))
    if result.result == ScanResult.WRONG_EVENT:
        if result.other_event is not None:
            return _(
                "Tiket ini untuk kegiatan \u201c%(title)s\u201d.", title=result.other_event.title
            )
        return _("Tiket ini untuk kegiatan lain.")
    if result.result == ScanResult.CANCELLED:
        return _("Pendaftaran ini sudah dibatalkan, sehingga tidak dapat dicatat hadir.")
    if result.result == ScanResult.NOT_CONFIRMED:
        return _("Peserta masih di daftar tunggu. Arahkan ke meja panitia.")
    if result.result == ScanResult.NOT_EVENT_DAY:
        event = db.session.get(Event, door.id)
        return _("Jadwal kegiatan: %(days)s.", days=_event_days_text(event))
    if raw_code is not None and checkin.clean_code(raw_code) is None:
        return _("Yang dipindai bukan kode tiket kegiatan. Minta peserta menunjukkan QR tiketnya.")
    return _("Kode tidak terdaftar. Cari peserta dengan nama bila perlu.")


def _scan_json(door: checkin.Door, result: Scan, raw_code: str | None = None) -> dict:
    row = result.checkin
    when = row.checked_in_at if row is not None else None
    by = row.scanned_by.name if row is not None and row.scanned_by is not None else None
    return {
        "result": str(result.result),
        "tone": TONES[result.result],
        "message": result.message,
        "detail": _detail(door, result, raw_code),
        "registration": _registration_json(result.registration) if result.registration else None,
        "checkin_id": row.id if row is not None else None,
        "checked_in_at": to_wib(when).isoformat() if when else None,
        "checked_in_at_text": wib_time(when) if when else None,
        "by": by,
        "day": result.day.isoformat() if result.day else None,
        "day_text": long_date(result.day) if result.day else None,
        "other_event": result.other_event.title if result.other_event else None,
    }


def _stats_json(event: Event) -> dict:
    now = clock.now()
    day = checkin.event_day_for(event, now)
    stats = checkin.day_stats(event, day)
    may_undo = can_manage(current_user, event)
    today = to_wib(now).date()
    recent = []
    for row in checkin.recent(event.id, RECENT_LIMIT):
        at_day = to_wib(row.checked_in_at).date()
        recent.append(
            {
                "id": row.id,
                "registration_id": row.registration_id,
                "name": row.registration.name,
                "unit": row.registration.affiliation,
                "at": to_wib(row.checked_in_at).isoformat(),
                "at_text": wib_time(row.checked_in_at),
                "date_text": "" if at_day == today else short_date(at_day),
                "by": row.scanned_by.name if row.scanned_by is not None else "",
                "method": str(row.method),
                "method_label": str(METHOD_LABELS.get(row.method, row.method)),
                "undo_url": url_for("checkin.undo", event_id=event.id, checkin_id=row.id)
                if may_undo
                else None,
            }
        )
    return {
        **stats,
        "is_event_day": day is not None,
        "day_text": long_date(day.date) if day else "",
        "recent": recent,
    }


def _bad_request(message: str):
    return errors.json_error(400, message)


# --- pages -------------------------------------------------------------------------


@bp.get("/", endpoint="events")
@role_required(*DOOR_ROLES)
def event_list():
    """The events the user may run the door for: today's first, then upcoming, then past."""
    now = clock.now()
    today = to_wib(now).date()
    items = checkin.checkin_events(_actor())

    def order(event: Event):
        last = max(event.day_dates) if event.day_dates else to_wib(event.ends_at).date()
        if today in event.day_dates:
            return (0, event.starts_at.timestamp())
        if last >= today:
            return (1, event.starts_at.timestamp())
        return (2, -event.starts_at.timestamp())

    items.sort(key=order)
    return render_template(
        "checkin/events.html",
        events=items,
        today_ids={e.id for e in items if today in e.day_dates},
        manages={e.id for e in items if can_manage(current_user, e)},
    )


@bp.get("/events/<int:event_id>", endpoint="page")
@login_required
def door_page(event_id: int):
    event = _door_event(event_id)
    stats = _stats_json(event)
    config = {
        "scanUrl": url_for("checkin.scan", event_id=event.id),
        "searchUrl": url_for("checkin.search", event_id=event.id),
        "statsUrl": url_for("checkin.stats", event_id=event.id),
        "pollSeconds": POLL_SECONDS,
        "holdMs": 2500,
        "stats": stats,
        "text": _page_text(),
    }
    return render_template(
        "checkin/page.html",
        event=event,
        stats=stats,
        config=config,
        scan_form=ScanForm(),
        search_form=SearchForm(formdata=None),
        may_manage=can_manage(current_user, event),
    )


def _page_text() -> dict:
    """The script's words, in the user's language."""
    return {
        "ok": _("Berhasil"),
        "warn": _("Perhatian"),
        "error": _("Ditolak"),
        "startCamera": _("Mulai kamera"),
        "stopCamera": _("Hentikan kamera"),
        "cameraStarting": _("Menyalakan kamera…"),
        "cameraOn": _("Kamera aktif. Arahkan QR tiket ke kamera."),
        "cameraOff": _("Kamera mati."),
        "insecure": _(
            "Kamera hanya dapat dipakai bila halaman ini dibuka melalui HTTPS atau "
            "di localhost. Minta pengelola membuka alamat https://…, atau gunakan "
            "pemindai genggam dan pencarian nama di bawah."
        ),
        "noMediaDevices": _(
            "Peramban ini tidak dapat memakai kamera. Gunakan pemindai genggam atau pencarian nama."
        ),
        "noCamera": _("Tidak ada kamera yang terdeteksi pada perangkat ini."),
        "denied": _(
            "Izin kamera ditolak. Izinkan akses kamera untuk situs ini di pengaturan "
            "peramban, lalu tekan \u201cMulai kamera\u201d lagi."
        ),
        "busy": _("Kamera sedang dipakai aplikasi lain. Tutup aplikasi itu lalu coba lagi."),
        "cameraFailed": _("Kamera tidak dapat dinyalakan."),
        "libraryMissing": _("Pustaka pemindai QR tidak termuat. Muat ulang halaman."),
        "camera": _("Kamera"),
        "network": _("Tidak tersambung ke server. Periksa jaringan lalu coba lagi."),
        "serverError": _("Server tidak dapat memproses permintaan. Coba lagi."),
        "searching": _("Mencari…"),
        "searchHint": _("Ketik paling sedikit 2 huruf."),
        "noResults": _("Tidak ada peserta yang cocok."),
        "checkIn": pgettext("button", "Hadir"),
        "checkInName": _("Catat hadir: %(name)s", name="{name}"),
        "present": _("Sudah hadir %(time)s", time="{time}"),
        "undo": _("Batalkan"),
        "undoName": _("Batalkan presensi %(name)s", name="{name}"),
        "undoConfirm": _(
            "Batalkan presensi %(name)s? Tindakan ini dicatat di log audit.", name="{name}"
        ),
        "undone": _("Presensi %(name)s dibatalkan.", name="{name}"),
        "noRecent": _("Belum ada yang dipindai."),
        "by": _("oleh %(name)s", name="{name}"),
        "notEventDay": _("Hari ini bukan hari kegiatan."),
        "holdSame": _("Kode yang sama baru saja dipindai."),
        "soundOn": _("Suara: aktif"),
        "soundOff": _("Suara: mati"),
    }


# --- JSON endpoints ----------------------------------------------------------------


@bp.post("/events/<int:event_id>/scan", endpoint="scan")
@json_login_required
@deferred_reads
def scan(event_id: int):
    """One scanned text -> one outcome. ``nonce`` makes a retried request count once."""
    now = clock.now()
    body = request.get_json(silent=True)
    raw = body.get("code") if isinstance(body, dict) else None
    code = raw if isinstance(raw, str) else ""
    door = _open_door(event_id, now, code)  # 404 / 403 before any complaint about the body
    if not isinstance(body, dict):
        return _bad_request(_("Kirim data pindaian sebagai JSON."))
    method = body.get("method", CheckinMethod.CAMERA.value)
    if method not in (CheckinMethod.CAMERA.value, CheckinMethod.SCANNER.value):
        return _bad_request(_("Cara pindai tidak dikenal."))
    nonce = body.get("nonce")
    if nonce is not None and not (isinstance(nonce, str) and NONCE.fullmatch(nonce)):
        return _bad_request(_("Nonce tidak sah."))
    result = checkin.scan(
        door, code, actor=_actor(), now=now, method=CheckinMethod(method), nonce=nonce
    )
    if result.result == ScanResult.NOT_FOUND:
        throttle.spend_unknown_code(current_user.id)
    return jsonify(_scan_json(door, result, raw_code=code))


@bp.post(
    "/events/<int:event_id>/registrations/<int:registration_id>/checkin",
    endpoint="checkin_registration",
)
@json_login_required
@deferred_reads
def checkin_registration(event_id: int, registration_id: int):
    """Check in someone found by the name search (no ticket at hand)."""
    now = clock.now()
    door = _open_door(event_id, now)
    result = checkin.check_in_registration(
        door, registration_id, actor=_actor(), now=now, method=CheckinMethod.SEARCH
    )
    return jsonify(_scan_json(door, result))


@bp.get("/events/<int:event_id>/search", endpoint="search")
@json_login_required
def search(event_id: int):
    event = _door_event(event_id)
    query = request.args.get("q", "")[:100]
    day = checkin.event_day_for(event, clock.now())
    found = checkin.search(event, query)
    present = checkin.day_checkins(day, [r.id for r in found])
    results = []
    for reg in found:
        row = present.get(reg.id)
        results.append(
            {
                **_registration_json(reg),
                "nip": reg.nip or "",
                "position": reg.position or "",
                "status": str(reg.status),
                "status_label": str(STATUS_LABELS.get(reg.status, reg.status)),
                "checked_in": row is not None,
                "checked_in_at_text": wib_time(row.checked_in_at) if row is not None else None,
                "checkin_url": url_for(
                    "checkin.checkin_registration", event_id=event.id, registration_id=reg.id
                ),
            }
        )
    return jsonify(
        {
            "query": query,
            "too_short": len(query.strip()) < 2,
            "is_event_day": day is not None,
            "results": results,
        }
    )


@bp.get("/events/<int:event_id>/stats", endpoint="stats")
@json_login_required
def stats(event_id: int):
    event = _door_event(event_id)
    return jsonify(_stats_json(event))


@bp.post("/events/<int:event_id>/checkins/<int:checkin_id>/undo", endpoint="undo")
@json_login_required
def undo(event_id: int, checkin_id: int):
    """Organizers and admins remove a mistaken check-in; the audit log keeps it."""
    event = _door_event(event_id)
    if not can_manage(current_user, event):
        abort(403)
    row = checkin.undo(checkin_id, event=event, actor=_actor())
    if row is None:
        abort(404)
    reg = db.session.get(Registration, row.registration_id)
    db.session.commit()
    return jsonify(
        {
            "removed": {"id": checkin_id, "registration_id": reg.id, "name": reg.name},
            "message": _("Presensi %(name)s dibatalkan.", name=reg.name),
        }
    )


# --- door staff ----------------------------------------------------------------------


@bp.route("/events/<int:event_id>/staff", methods=["GET", "POST"], endpoint="staff")
@organizer_required
def staff(event_id: int):
    event = managed_event_or_404(event_id)
    action = request.form.get("action") if request.method == "POST" else None
    assign_form = AssignStaffForm(
        candidates=checkin.assignable_staff(event.id),
        formdata=request.form if action == "assign" else None,
    )
    remove_form = RemoveStaffForm(formdata=request.form if action == "remove" else None)
    status = 200
    if action == "assign":
        if assign_form.validate():
            user = db.session.get(User, assign_form.user_id.data)
            try:
                checkin.assign_staff(event, user, _actor())
            except DomainError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            else:
                db.session.commit()
                flash(_("%(name)s ditugaskan sebagai petugas presensi.", name=user.name), "success")
                return redirect(url_for("checkin.staff", event_id=event.id))
        status = 422
    elif action == "remove":
        if remove_form.validate():
            user = db.session.get(User, remove_form.user_id.data)
            checkin.unassign_staff(event, remove_form.user_id.data, _actor())
            db.session.commit()
            if user is not None:
                flash(_("%(name)s tidak lagi bertugas di kegiatan ini.", name=user.name), "info")
            return redirect(url_for("checkin.staff", event_id=event.id))
        flash(_("Permintaan tidak dapat diproses."), "danger")
        status = 422
    elif request.method == "POST":
        flash(_("Permintaan tidak dapat diproses."), "danger")
        status = 400
    return render_template(
        "checkin/staff.html",
        event=event,
        assigned=checkin.assigned_staff(event.id),
        assign_form=assign_form,
        remove_form=RemoveStaffForm(formdata=None),
    ), status
