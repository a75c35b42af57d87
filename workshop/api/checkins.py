"""Check-in in the JSON API: scan a code, undo a check-in, read an event's attendance.

Scanners and integrations post what they scanned; every scan outcome (including junk
text) is a 200 answer with a ``result``, so a device can show it. Only unknown codes
count against a per-user limit; scans of real tickets are never throttled.
"""

from flask import current_app
from flask_babel import gettext as _

from workshop import clock, throttle
from workshop.api import openapi, schemas
from workshop.api.auth import (
    api_identity,
    api_user,
    organizer_rate_limit,
    organizer_token_required,
    token_required,
)
from workshop.models import Checkin, CheckinMethod, Event, db
from workshop.services import checkin, events, reports
from workshop.services.checkin import Person, Scan, ScanResult
from workshop.services.locking import deferred_reads

# --- JSON shapes -------------------------------------------------------------------


def _person(person: Person | None) -> dict | None:
    return {"id": person.id, "name": person.name} if person is not None else None


def scan_json(result: Scan) -> dict:
    row = result.checkin
    other = result.other_event
    return {
        "result": str(result.result),
        "message": result.message,
        "registration": (
            schemas.door_registration_json(result.registration)
            if result.registration is not None
            else None
        ),
        "checkin_id": row.id if row is not None else None,
        "checked_in_at": schemas.iso_wib(row.checked_in_at) if row is not None else None,
        "day": result.day.isoformat() if result.day is not None else None,
        "checked_in_by": _person(row.scanned_by) if row is not None else None,
        "other_event": {"id": other.id, "title": other.title} if other is not None else None,
    }


# --- views -------------------------------------------------------------------------


@token_required()
@deferred_reads
def create_checkin():
    """One scanned text -> one outcome for today's event day (200 for every outcome).

    The door's hot path: the token's identity is one Core statement, the door (permission,
    today's day) with the scanned code's registration another, then the insert; no ORM
    object is built."""
    values = schemas.parse_checkin(schemas.json_object())
    actor, now = api_identity(), clock.now()
    # 404 / 403 JSON from the DomainError handler when the caller may not run this door.
    door = checkin.open_door(actor, values["event_id"], now, values["code"])
    result = checkin.scan(
        door, values["code"], actor=actor, now=now, method=CheckinMethod.API, nonce=values["nonce"]
    )
    if result.result == ScanResult.NOT_FOUND:
        throttle.spend_unknown_code(actor.id)
    return scan_json(result)


@organizer_token_required
@organizer_rate_limit
def delete_checkin(checkin_id: int):
    """Undo a mistaken check-in (the event's organizer, admins); the audit log keeps it."""
    row = db.session.get(Checkin, checkin_id)
    event = db.session.get(Event, row.event_id) if row is not None else None
    if event is None or not events.can_manage(api_user(), event):
        raise schemas.ApiError(404, _("Presensi tidak ditemukan."), "not_found")
    checkin.undo(checkin_id, event=event, actor=api_user())
    db.session.commit()
    return current_app.response_class(status=204)


@token_required()
@organizer_rate_limit
def event_attendance(event_id: int):
    """The dashboard's numbers (organizer, admin, door staff): per day with its arrivals,
    per unit with quota, registered, attended and rate; the same report as the dashboard."""
    event = checkin.door_event(api_identity(), event_id)
    return reports.attendance_api_json(reports.event_report(event))


# --- OpenAPI -----------------------------------------------------------------------

DATE_COUNT = {
    "type": "object",
    "required": ["date", "checked_in"],
    "properties": {"date": openapi.DATE, "checked_in": {"type": "integer"}},
}
ARRIVALS = {
    "type": "object",
    "required": ["at", "checked_in"],
    "properties": {
        "at": {**openapi.DATETIME, "description": "Awal rentang 5 menit (WIB)."},
        "checked_in": {"type": "integer"},
    },
}
NULLABLE_TEXT = openapi.nullable({"type": "string"})

SCHEMAS = {
    "CheckinInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "event_id"],
        "properties": {
            "code": {
                "type": "string",
                "maxLength": schemas.SCAN_TEXT_MAX,
                "description": (
                    "Teks hasil pindai QR apa adanya (spasi dan Enter di ujung diabaikan). "
                    "Teks yang bukan kode tiket (kosong, terlalu panjang untuk sebuah kode, "
                    "karakter kontrol, URL situs lain) dijawab 200 not_found dan tidak "
                    "dicatat; lebih dari maxLength karakter: 422."
                ),
            },
            "event_id": {"type": "integer", "description": "Kegiatan di pintu ini."},
            "nonce": openapi.nullable(
                {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_\\-]{8,64}$",
                    "description": (
                        "Kunci idempoten dari klien: permintaan ulang dengan nonce yang sama "
                        "dijawab ok dengan presensi yang sama, tidak dihitung dua kali."
                    ),
                }
            ),
        },
    },
    "DoorRegistration": {
        "type": "object",
        "description": "Yang perlu dilihat petugas pintu: tanpa kontak dan tanpa rahasia.",
        "required": [
            "id",
            "event_id",
            "name",
            "position",
            "unit_id",
            "institution",
            "affiliation",
            "role",
            "status",
        ],
        "properties": {
            "id": {"type": "integer"},
            "event_id": {"type": "integer"},
            "name": {"type": "string"},
            "position": {"type": "string"},
            "unit_id": openapi.nullable({"type": "integer"}),
            "institution": NULLABLE_TEXT,
            "affiliation": {"type": "string", "description": "Nama unit kerja atau instansi."},
            "role": {"type": "string", "enum": ["participant", "speaker", "committee"]},
            "status": {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]},
        },
    },
    "ScanResult": {
        "type": "object",
        "required": [
            "result",
            "message",
            "registration",
            "checkin_id",
            "checked_in_at",
            "day",
            "checked_in_by",
            "other_event",
        ],
        "properties": {
            "result": {
                "type": "string",
                "enum": [str(r) for r in ScanResult],
                "description": (
                    "ok: tercatat hadir; already_checked_in: sudah tercatat hari ini "
                    "(checked_in_at, checked_in_by); wrong_event: tiket kegiatan lain "
                    "(other_event bila pemanggil boleh melihatnya); cancelled: pendaftaran "
                    "dibatalkan; not_confirmed: masih di daftar tunggu; not_event_day: hari "
                    "ini bukan hari kegiatan; not_found: kode tidak dikenal."
                ),
            },
            "message": {"type": "string", "description": "Untuk ditampilkan di pintu."},
            "registration": openapi.nullable(openapi.ref("DoorRegistration")),
            "checkin_id": openapi.nullable(
                {"type": "integer", "description": "Untuk DELETE /checkins/{checkin_id}."}
            ),
            "checked_in_at": openapi.nullable(openapi.DATETIME),
            "day": openapi.nullable(openapi.DATE),
            "checked_in_by": openapi.nullable(
                {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                }
            ),
            "other_event": openapi.nullable(
                {
                    "type": "object",
                    "required": ["id", "title"],
                    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
                }
            ),
        },
    },
    "Attendance": {
        "type": "object",
        "description": ("Angka yang sama dengan dasbor kegiatan, daftar hadir PDF, XLSX dan CSV."),
        "required": ["event_id", "confirmed", "checked_in", "counts", "days", "units"],
        "properties": {
            "event_id": {"type": "integer"},
            "confirmed": {
                "type": "integer",
                "description": "Pendaftaran berstatus confirmed (semua peran).",
            },
            "checked_in": {
                "type": "integer",
                "description": "Orang berbeda yang hadir pada sedikitnya satu hari.",
            },
            "counts": {
                "type": "object",
                "description": "Jumlah pendaftaran per status (semua peran).",
                "required": ["confirmed", "waitlisted", "cancelled"],
                "properties": {
                    "confirmed": {"type": "integer"},
                    "waitlisted": {"type": "integer"},
                    "cancelled": {"type": "integer"},
                },
            },
            "days": {
                "type": "array",
                "description": (
                    "Setiap hari kegiatan dengan jumlah presensinya dan kedatangan per "
                    "5 menit (WIB)."
                ),
                "items": {
                    "type": "object",
                    "required": ["date", "checked_in", "arrivals"],
                    "properties": {
                        "date": openapi.DATE,
                        "checked_in": {"type": "integer"},
                        "arrivals": {
                            "type": "array",
                            "items": ARRIVALS,
                            "description": (
                                "Setiap rentang 5 menit dari kedatangan pertama sampai "
                                "terakhir hari itu (termasuk yang kosong); jumlahnya sama "
                                "dengan checked_in hari itu. Kosong bila belum ada presensi."
                            ),
                        },
                    },
                },
            },
            "units": {
                "type": "array",
                "description": (
                    "Per unit kerja yang punya pendaftar terkonfirmasi atau presensi, urut "
                    "nama seperti di dasbor; unit_id null (instansi lain) paling akhir."
                ),
                "items": {
                    "type": "object",
                    "required": [
                        "unit_id",
                        "unit",
                        "unit_name",
                        "confirmed",
                        "registered",
                        "attended",
                        "quota",
                        "rate",
                        "days",
                    ],
                    "properties": {
                        "unit_id": openapi.nullable({"type": "integer"}),
                        "unit": {"type": "string", "description": "Singkatan unit."},
                        "unit_name": {"type": "string"},
                        "confirmed": {"type": "integer"},
                        "registered": {
                            "type": "integer",
                            "description": "Sama dengan confirmed (nama di dasbor).",
                        },
                        "attended": {
                            "type": "integer",
                            "description": "Orang yang hadir pada sedikitnya satu hari.",
                        },
                        "quota": openapi.nullable(
                            {
                                "type": "integer",
                                "description": (
                                    "Kuota per unit kegiatan; null bila tanpa kuota atau "
                                    "untuk instansi lain."
                                ),
                            }
                        ),
                        "rate": openapi.nullable(
                            {
                                "type": "number",
                                "description": (
                                    "attended / registered, 4 desimal; null bila tidak "
                                    "ada yang terdaftar."
                                ),
                            }
                        ),
                        "days": {"type": "array", "items": DATE_COUNT},
                    },
                },
            },
        },
    },
}

DOOR = (
    "Petugas yang ditugaskan di kegiatan itu, penyelenggara pemiliknya, dan admin; "
    "pengguna lain 403; kegiatan yang tidak ada (atau draf yang tidak boleh dilihat) 404."
)

PATHS = {
    "/checkins": {
        "post": {
            "operationId": "createCheckin",
            "summary": "Catat hadir dari kode QR yang dipindai",
            "description": (
                DOOR + " Setiap hasil pindai dijawab 200 dengan `result`, untuk hari ini (WIB); "
                "satu presensi per orang per hari, juga bila beberapa pintu memindai "
                "bersamaan. Kode yang tidak dikenal dibatasi per pengguna token "
                "(CHECKIN_NOT_FOUND_LIMIT, bawaan 120 per menit; lebih dari itu 429); "
                "pindaian tiket yang sah tidak pernah dibatasi."
            ),
            "security": openapi.BEARER,
            "requestBody": openapi.body(openapi.ref("CheckinInput")),
            "responses": {
                "200": openapi.ok("Hasil pindai.", openapi.ref("ScanResult")),
                **openapi.errors(400, 401, 403, 404, 422, 429, 500),
            },
        },
    },
    "/checkins/{checkin_id}": {
        "parameters": [
            {"name": "checkin_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "delete": {
            "operationId": "deleteCheckin",
            "summary": "Batalkan presensi yang keliru",
            "description": (
                "Penyelenggara pemilik kegiatan dan admin (petugas dan peserta 403; presensi "
                "kegiatan penyelenggara lain 404). Dicatat di log audit."
            ),
            "security": openapi.BEARER,
            "responses": {
                "204": {"description": "Presensi dihapus."},
                **openapi.errors(401, 403, 404, 429, 500),
            },
        },
    },
    "/events/{event_id}/attendance": {
        "parameters": [openapi.EVENT_ID],
        "get": {
            "operationId": "getAttendance",
            "summary": "Kehadiran per hari dan per unit kerja",
            "description": DOOR + " Jumlah kueri tetap, berapa pun pendaftarnya.",
            "security": openapi.BEARER,
            "responses": {
                "200": openapi.ok("Kehadiran.", openapi.ref("Attendance")),
                **openapi.errors(401, 403, 404, 429, 500),
            },
        },
    },
}

openapi.add(PATHS, SCHEMAS)
