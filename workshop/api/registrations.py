"""Registrations in the JSON API: register, list, read and cancel (organizer tokens).

Only the event's organizer and admins; another organizer's event or registration is
"not found". The rules (capacity, unit quota, waiting list, duplicates, the window) are
``services.registration``'s: these views parse, check permission and answer.
"""

from flask import request, url_for
from flask_babel import gettext as _

from workshop import clock
from workshop.api import openapi, schemas
from workshop.api.auth import (
    api_identity,
    api_user,
    organizer_rate_limit,
    organizer_token_required,
)
from workshop.api.events import event_or_404
from workshop.models import EventRole, Registration, db
from workshop.services import events, registration, registration_lists
from workshop.services.locking import deferred_reads
from workshop.services.registration import DuplicateRegistration

# Speakers and committee are added by the organizer at any time, like the organizer pages
# do; participants go through the public registration window (opening and closing times,
# published events only), which is what ``registration_not_open``/``_closed`` answer.
WINDOW_EXEMPT_ROLES = {EventRole.SPEAKER, EventRole.COMMITTEE}


def _registration_or_404(registration_id: int) -> Registration:
    """The registration if the caller manages its event; else 404 (existence not shown)."""
    reg = db.session.get(Registration, registration_id)
    if reg is None or not events.can_manage(api_user(), reg.event):
        raise schemas.ApiError(404, _("Pendaftaran tidak ditemukan."), "not_found")
    return reg


@organizer_token_required
@organizer_rate_limit
@deferred_reads
def create_registration(event_id: int):
    """Register one person; 201 with the registration (confirmed or waitlisted).

    The body is checked first (422 whatever the event), then the event is read once,
    with its lock: someone else's or a missing event is 404."""
    data = schemas.parse_registration(schemas.json_object())
    role = (data.role or "").strip().lower()
    identity = api_identity()
    try:
        placed = registration.place(
            event_id,
            data,
            now=clock.now(),
            actor=identity,
            manager=identity,
            by_organizer=role in WINDOW_EXEMPT_ROLES,
        )
    except DuplicateRegistration as exc:
        # The existing registration's id lets a client that retried after a timeout find
        # the one it made; the person is sent their manage link again by the service.
        db.session.rollback()
        return {"error": exc.code, "message": exc.message, "existing_id": exc.existing_id}, 409
    reg = placed.row
    location = url_for("api.registration_detail", registration_id=reg.id)
    body = schemas.registration_json(reg, placed.position)
    return body, 201, {"Location": location}


@organizer_token_required
@organizer_rate_limit
def list_registrations(event_id: int):
    """Every registration of the event, oldest first; ``?status=`` filters."""
    event = event_or_404(event_id, manage=True)
    status = schemas.status_filter(request.args.get("status"))
    positions = registration_lists.waitlist_positions(event.id)
    found = registration_lists.event_registrations(event.id, status)
    return schemas.listing([schemas.registration_json(r, positions.get(r.id)) for r in found])


@organizer_token_required
@organizer_rate_limit
def registration_detail(registration_id: int):
    reg = _registration_or_404(registration_id)
    return schemas.registration_json(reg, registration_lists.waitlist_position(reg))


@organizer_token_required
@organizer_rate_limit
def cancel_registration(registration_id: int):
    """Cancel (idempotent) and answer the new status and whom the freed place promoted."""
    reg = _registration_or_404(registration_id)
    schemas.empty_object()
    outcome = registration.cancel(reg.id, now=clock.now(), actor=api_user())
    return {
        "id": outcome.registration.id,
        "status": str(outcome.registration.status),
        "promoted": [p.id for p in outcome.promoted],
    }


# --- OpenAPI -----------------------------------------------------------------------

TEXT = {"type": "string"}
REGISTRATION_STATUS = {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]}
ROLE = {
    "type": "string",
    "enum": ["participant", "speaker", "committee"],
    "description": "Peran di kegiatan: peserta, narasumber, panitia.",
}
EMPLOYMENT = {
    "type": "string",
    "enum": ["pns", "pppk", "non_asn"],
    "description": "Status kepegawaian; menentukan apakah NIP (PNS) atau NI PPPK wajib.",
}
REGISTRATION_ID = {
    "name": "registration_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
CONFLICT_CODES = (
    "duplicate_registration",
    "event_full",
    "unit_quota_full",
    "registration_closed",
    "registration_not_open",
)

SCHEMAS = {
    "RegistrationInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "email", "employment_status"],
        "description": (
            "Data peserta. Nama disimpan persis seperti ditulis (gelar, nama tunggal). "
            "Telepon format Indonesia (0812-3456-7890, +62 812 3456 7890) disimpan sebagai "
            "+62…. NIP untuk PNS (18 digit, spasi/titik/tanda hubung boleh), NI PPPK 18 digit "
            "untuk PPPK, kosong untuk non-ASN. Tepat satu dari unit_id atau institution. "
            "Kolom yang tidak dikenal atau hanya-baca ditolak 422."
        ),
        "properties": {
            "name": {"type": "string", "maxLength": 200, "examples": ["Ir. H. Abdul Najib, MM"]},
            "email": {"type": "string", "format": "email"},
            "phone": openapi.nullable({"type": "string", "examples": ["0812-3456-7890"]}),
            "nip": openapi.nullable({"type": "string", "examples": ["19680411 199303 1 009"]}),
            "employment_status": EMPLOYMENT,
            "position": openapi.nullable({"type": "string", "maxLength": 200}),
            "unit_id": openapi.nullable(
                {"type": "integer", "description": "Unit kerja aktif (GET /units)."}
            ),
            "institution": openapi.nullable(
                {"type": "string", "maxLength": 200, "description": "Instansi lain."}
            ),
            "role": {**ROLE, "default": "participant"},
        },
    },
    "Registration": {
        "type": "object",
        "required": [
            "id",
            "event_id",
            "name",
            "email",
            "phone",
            "nip",
            "employment_status",
            "position",
            "unit_id",
            "institution",
            "role",
            "status",
            "waitlist_position",
            "check_in_code",
            "manage_url",
            "created_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "event_id": {"type": "integer"},
            "name": TEXT,
            "email": TEXT,
            "phone": openapi.nullable(TEXT),
            "nip": openapi.nullable({"type": "string", "pattern": "^[0-9]{18}$"}),
            "employment_status": EMPLOYMENT,
            "position": TEXT,
            "unit_id": openapi.nullable({"type": "integer"}),
            "institution": openapi.nullable(TEXT),
            "role": ROLE,
            "status": REGISTRATION_STATUS,
            "waitlist_position": openapi.nullable(
                {"type": "integer", "minimum": 1, "description": "1 = berikutnya dipanggil."}
            ),
            "check_in_code": {
                "type": "string",
                "description": "Isi QR tiket (untuk POST /checkins); bukan tautan kelola.",
            },
            "manage_url": {
                "type": "string",
                "format": "uri",
                "description": "Tautan pribadi peserta (/r/<token>) untuk melihat dan membatalkan.",
            },
            "created_at": openapi.DATETIME,
        },
    },
    "RegistrationList": {
        "type": "object",
        "required": ["items", "count"],
        "properties": {
            "items": {"type": "array", "items": openapi.ref("Registration")},
            "count": {"type": "integer"},
        },
    },
    "RegistrationConflict": {
        "allOf": [
            openapi.ref("Error"),
            {
                "type": "object",
                "properties": {
                    "error": {"type": "string", "enum": list(CONFLICT_CODES)},
                    "existing_id": {
                        "type": "integer",
                        "description": "Hanya untuk duplicate_registration: pendaftaran aktif "
                        "yang sudah ada (tautan kelolanya dikirim ulang ke pesertanya).",
                    },
                },
            },
        ],
    },
    "CancelResult": {
        "type": "object",
        "required": ["id", "status", "promoted"],
        "properties": {
            "id": {"type": "integer"},
            "status": REGISTRATION_STATUS,
            "promoted": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Pendaftaran dari daftar tunggu yang mendapat tempat.",
            },
        },
    },
}

MANAGER_ONLY = (
    "Hanya penyelenggara pemilik kegiatan dan admin; kegiatan atau pendaftaran milik "
    "penyelenggara lain: 404; token peserta atau petugas: 403."
)

PATHS = {
    "/events/{event_id}/registrations": {
        "parameters": [openapi.EVENT_ID],
        "get": {
            "operationId": "listRegistrations",
            "summary": "Daftar pendaftaran kegiatan",
            "description": MANAGER_ONLY + " Urut dari yang terlama; tanpa halaman.",
            "security": openapi.BEARER,
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": REGISTRATION_STATUS,
                    "description": "Saring menurut status; nilai lain ditolak 422.",
                }
            ],
            "responses": {
                "200": openapi.ok("Pendaftaran.", openapi.ref("RegistrationList")),
                **openapi.errors(401, 403, 404, 422, 429, 500),
            },
        },
        "post": {
            "operationId": "createRegistration",
            "summary": "Daftarkan satu orang",
            "description": (
                MANAGER_ONLY
                + " Peserta (role participant) mengikuti jendela pendaftaran publik: kegiatan "
                "harus diterbitkan dan pendaftaran sudah dibuka dan belum ditutup "
                "(409 registration_not_open / registration_closed). Narasumber (speaker) dan "
                "panitia (committee) dapat ditambahkan kapan saja selama kegiatan belum "
                "dibatalkan atau selesai, dan tidak memakai kuota. Bila kuota kegiatan atau "
                "unit penuh, pendaftar masuk daftar tunggu (status waitlisted dengan "
                "waitlist_position), atau ditolak 409 event_full / unit_quota_full bila "
                "kegiatan tanpa daftar tunggu. Email konfirmasi dikirim ke peserta."
            ),
            "security": openapi.BEARER,
            "requestBody": openapi.body(openapi.ref("RegistrationInput")),
            "responses": {
                "201": openapi.ok(
                    "Terdaftar (confirmed) atau di daftar tunggu (waitlisted).",
                    openapi.ref("Registration"),
                    headers={
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "Alamat pendaftaran baru di API.",
                        }
                    },
                ),
                "409": openapi.ok(
                    "Ditolak: " + ", ".join(CONFLICT_CODES) + ".",
                    openapi.ref("RegistrationConflict"),
                ),
                **openapi.errors(400, 401, 403, 404, 422, 429, 500),
            },
        },
    },
    "/registrations/{registration_id}": {
        "parameters": [REGISTRATION_ID],
        "get": {
            "operationId": "getRegistration",
            "summary": "Satu pendaftaran",
            "description": MANAGER_ONLY,
            "security": openapi.BEARER,
            "responses": {
                "200": openapi.ok("Pendaftaran.", openapi.ref("Registration")),
                **openapi.errors(401, 403, 404, 429, 500),
            },
        },
    },
    "/registrations/{registration_id}/cancel": {
        "parameters": [REGISTRATION_ID],
        "post": {
            "operationId": "cancelRegistration",
            "summary": "Batalkan pendaftaran",
            "description": (
                MANAGER_ONLY + " Tempat yang kosong langsung diisi dari daftar tunggu "
                "(yang terlama lebih dulu, bila kuota unitnya memungkinkan); `promoted` "
                "menyebut siapa. Membatalkan yang sudah batal tidak mengubah apa pun."
            ),
            "security": openapi.BEARER,
            "requestBody": {
                "required": False,
                "description": "Tanpa isi, atau objek kosong.",
                "content": openapi.json_content(
                    {"type": "object", "additionalProperties": False, "maxProperties": 0}
                ),
            },
            "responses": {
                "200": openapi.ok("Status baru.", openapi.ref("CancelResult")),
                **openapi.errors(400, 401, 403, 404, 422, 429, 500),
            },
        },
    },
}

openapi.add(PATHS, SCHEMAS)
