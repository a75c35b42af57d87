"""The OpenAPI 3.1 description of /api/v1, kept by hand as plain dicts.

A feature that adds endpoints adds its schemas to ``SCHEMAS`` and its paths to
``PATHS`` (path keys relative to the server URL /api/v1, e.g. "/events/{event_id}"),
using the helpers below for bodies and error responses. tests/api/test_openapi.py
fails when a registered /api/v1 route is missing here, or documented but not routed.
"""

from copy import deepcopy

OPENAPI_VERSION = "3.1.0"
INFO = {
    "title": "Workshop API",
    "version": "1.0.0",
    "description": (
        "API JSON Workshop: kegiatan, unit kerja, pendaftaran dan presensi. "
        "Autentikasi dengan header `Authorization: Bearer <token>`; token dibuat dengan "
        "`flask --app app create-token --email ...`. Cookie sesi tidak pernah dipakai di API. "
        "Waktu ditulis dalam ISO 8601 dengan offset; waktu tanpa offset dibaca sebagai WIB "
        "(Asia/Jakarta), dan jawaban selalu memakai offset +07:00. Kesalahan selalu berupa "
        "objek Error. Endpoint penyelenggara dibatasi per pengguna token (konfigurasi "
        "API_RATE_LIMIT, bawaan 3000 per menit), jauh di atas batas formulir publik; "
        "kelebihan dijawab 429 (error: rate_limited) dengan Retry-After."
    ),
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """``schema`` or null (OpenAPI 3.1 / JSON Schema style)."""
    return {"anyOf": [schema, {"type": "null"}]}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": json_content(schema)}
    if headers:
        response["headers"] = headers
    return response


def errors(*statuses: int) -> dict:
    """References to the shared error responses, by status code."""
    return {str(s): {"$ref": f"#/components/responses/{ERROR_RESPONSES[s]}"} for s in statuses}


def body(schema: dict, description: str = "") -> dict:
    request_body = {"required": True, "content": json_content(schema)}
    if description:
        request_body["description"] = description
    return request_body


DATETIME = {
    "type": "string",
    "format": "date-time",
    "examples": ["2030-01-25T08:00:00+07:00"],
    "description": "ISO 8601; tanpa offset dibaca sebagai WIB. Jawaban memakai +07:00.",
}
DATE = {"type": "string", "format": "date", "examples": ["2030-01-25"]}
STATUS = {"type": "string", "enum": ["draft", "published", "cancelled", "finished"]}

SPEAKER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 200, "description": "Nama lengkap dengan gelar."},
        "affiliation": nullable({"type": "string", "maxLength": 200}),
    },
}
AGENDA_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["starts_at", "title"],
    "properties": {
        "starts_at": DATETIME,
        "title": {"type": "string", "maxLength": 300},
        "speaker": nullable({"type": "string", "maxLength": 200}),
    },
}

EVENT_INPUT_PROPERTIES = {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": nullable({"type": "string", "maxLength": 20000}),
    "venue": {"type": "string", "minLength": 1, "maxLength": 300},
    "starts_at": DATETIME,
    "ends_at": DATETIME,
    "days": nullable(
        {
            "type": "array",
            "items": DATE,
            "description": "Hari kegiatan (WIB). Bawaan: setiap hari dari mulai sampai selesai.",
        }
    ),
    "capacity": nullable({"type": "integer", "minimum": 1, "description": "null: tanpa batas."}),
    "unit_quota": nullable(
        {"type": "integer", "minimum": 1, "description": "Kuota per unit kerja; null: tanpa kuota."}
    ),
    "waitlist": {"type": "boolean", "description": "Daftar tunggu saat kuota penuh."},
    "registration_opens_at": nullable(DATETIME),
    "registration_closes_at": nullable(DATETIME),
    "unit_id": nullable({"type": "integer", "description": "Unit kerja penyelenggara (aktif)."}),
    "speakers": {"type": "array", "maxItems": 100, "items": SPEAKER},
    "agenda": {"type": "array", "maxItems": 100, "items": AGENDA_ITEM},
    "status": {
        **STATUS,
        "description": (
            "Saat membuat: draft (bawaan) atau published. Saat mengubah: draft → published, "
            "draft/published → cancelled, published → finished; perubahan lain ditolak 409."
        ),
    },
}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {
                "type": "string",
                "description": "Kode untuk mesin, misalnya invalid, not_found, invalid_token.",
                "examples": ["invalid"],
            },
            "message": {"type": "string", "description": "Pesan untuk manusia."},
            "fields": {
                "type": "object",
                "description": "Untuk data tidak valid: nama kolom → daftar pesan.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Speaker": SPEAKER,
    "AgendaItem": AGENDA_ITEM,
    "Event": {
        "type": "object",
        "required": [
            "id",
            "title",
            "description",
            "venue",
            "starts_at",
            "ends_at",
            "days",
            "capacity",
            "unit_quota",
            "waitlist",
            "registration_opens_at",
            "registration_closes_at",
            "status",
            "unit_id",
            "speakers",
            "agenda",
            "owner_id",
            "confirmed",
            "waitlisted",
            "checked_in",
        ],
        "properties": {
            "id": {"type": "integer"},
            **{k: v for k, v in EVENT_INPUT_PROPERTIES.items() if k != "status"},
            "description": {"type": "string"},
            "days": {"type": "array", "items": DATE},
            "status": STATUS,
            "owner_id": {"type": "integer"},
            "confirmed": {
                "type": "integer",
                "readOnly": True,
                "description": "Pendaftaran berstatus confirmed (semua peran).",
            },
            "waitlisted": {
                "type": "integer",
                "readOnly": True,
                "description": "Pendaftaran di daftar tunggu (waitlisted).",
            },
            "checked_in": {
                "type": "integer",
                "readOnly": True,
                "description": (
                    "Jumlah orang berbeda yang tercatat hadir pada sedikitnya satu hari "
                    "kegiatan (rincian per hari: GET /events/{event_id}/attendance)."
                ),
            },
        },
    },
    "EventInput": {
        "type": "object",
        "additionalProperties": False,
        "description": (
            "Kolom kegiatan yang dapat diisi. POST mewajibkan title, venue, starts_at dan "
            "ends_at; PATCH hanya mengubah kolom yang dikirim. Kolom yang tidak dikenal atau "
            "hanya-baca (id, owner_id) ditolak 422."
        ),
        "properties": EVENT_INPUT_PROPERTIES,
    },
    "EventList": {
        "type": "object",
        "required": ["items", "count"],
        "properties": {
            "items": {"type": "array", "items": ref("Event")},
            "count": {"type": "integer"},
        },
    },
    "Unit": {
        "type": "object",
        "required": ["id", "name", "short_name"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "examples": ["Badan Perencanaan Pembangunan Daerah"]},
            "short_name": {"type": "string", "examples": ["Bappeda"]},
        },
    },
    "UnitList": {
        "type": "object",
        "required": ["items", "count"],
        "properties": {
            "items": {"type": "array", "items": ref("Unit")},
            "count": {"type": "integer"},
        },
    },
}

ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    422: "Invalid",
    429: "TooManyRequests",
    500: "ServerError",
}

RESPONSES = {
    "BadRequest": ok("Isi permintaan bukan objek JSON (error: bad_request).", ref("Error")),
    "Unauthorized": ok(
        "Token tidak dikirim (error: unauthorized) atau tidak valid (error: invalid_token). "
        "Token yang tidak valid ditolak juga di endpoint publik.",
        ref("Error"),
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "example": "Bearer"}},
    ),
    "Forbidden": ok("Peran pemilik token tidak diizinkan (error: forbidden).", ref("Error")),
    "NotFound": ok("Tidak ada, atau bukan milik pemanggil (error: not_found).", ref("Error")),
    "MethodNotAllowed": ok("Metode tidak diizinkan (error: method_not_allowed).", ref("Error")),
    "Conflict": ok("Perubahan status tidak diizinkan (error: invalid_transition).", ref("Error")),
    "Invalid": ok(
        "Data tidak valid (error: invalid); `fields` memuat pesan per kolom.", ref("Error")
    ),
    "TooManyRequests": ok(
        "Batas laju terlampaui (error: rate_limited); coba lagi setelah Retry-After detik.",
        ref("Error"),
        headers={"Retry-After": {"schema": {"type": "integer"}}},
    ),
    "ServerError": ok("Kesalahan server (error: server_error).", ref("Error")),
}

EVENT_ID = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
BEARER = [{"bearer": []}]
OPTIONAL_BEARER = [{}, {"bearer": []}]

PATHS: dict[str, dict] = {
    "/events": {
        "get": {
            "operationId": "listEvents",
            "summary": "Daftar kegiatan",
            "description": (
                "Kegiatan yang diterbitkan, selesai dan dibatalkan; dengan token penyelenggara "
                "juga drafnya sendiri; admin melihat semua."
            ),
            "security": OPTIONAL_BEARER,
            "responses": {"200": ok("Daftar kegiatan.", ref("EventList")), **errors(401, 500)},
        },
        "post": {
            "operationId": "createEvent",
            "summary": "Buat kegiatan (penyelenggara, admin)",
            "security": BEARER,
            "requestBody": body(
                {
                    "allOf": [
                        ref("EventInput"),
                        {"required": ["title", "venue", "starts_at", "ends_at"]},
                    ],
                }
            ),
            "responses": {
                "201": ok(
                    "Kegiatan dibuat.",
                    ref("Event"),
                    headers={
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "Alamat kegiatan baru.",
                        }
                    },
                ),
                **errors(400, 401, 403, 422, 429, 500),
            },
        },
    },
    "/events/{event_id}": {
        "parameters": [EVENT_ID],
        "get": {
            "operationId": "getEvent",
            "summary": "Satu kegiatan",
            "description": "Draf hanya terlihat oleh yang mengelolanya; selain itu 404.",
            "security": OPTIONAL_BEARER,
            "responses": {"200": ok("Kegiatan.", ref("Event")), **errors(401, 404, 500)},
        },
        "patch": {
            "operationId": "updateEvent",
            "summary": "Ubah sebagian kolom kegiatan (pemilik, admin)",
            "description": (
                "Hanya kolom yang dikirim yang berubah. Kegiatan penyelenggara lain: 404."
            ),
            "security": BEARER,
            "requestBody": body(ref("EventInput")),
            "responses": {
                "200": ok("Kegiatan setelah diubah.", ref("Event")),
                **errors(400, 401, 403, 404, 409, 422, 429, 500),
            },
        },
    },
    "/units": {
        "get": {
            "operationId": "listUnits",
            "summary": "Daftar unit kerja (SKPD/OPD) aktif",
            "security": OPTIONAL_BEARER,
            "responses": {"200": ok("Unit kerja aktif.", ref("UnitList")), **errors(401, 500)},
        },
    },
    "/reports/units": {
        "get": {
            "operationId": "getUnitReport",
            "summary": "Rekap per unit kerja untuk suatu periode (admin)",
            "description": (
                "Untuk kegiatan yang diterbitkan atau selesai dan dimulai (WIB) dalam periode: "
                "per unit kerja, jumlah kegiatan yang diikuti (pendaftaran terkonfirmasi) dan "
                "dihadiri, jumlah pegawai (menurut NIP, atau email bila tanpa NIP) terdaftar "
                "dan hadir, serta jumlah JP dari sertifikat yang sah. Setiap unit aktif "
                "mendapat baris. Tanggal tidak valid, tidak ada, atau periode lebih dari tiga "
                "tahun: 422."
            ),
            "security": BEARER,
            "parameters": [
                {"name": "from", "in": "query", "required": True, "schema": DATE},
                {"name": "to", "in": "query", "required": True, "schema": DATE},
            ],
            "responses": {
                "200": ok(
                    "Rekap per unit kerja.",
                    {
                        "type": "object",
                        "required": ["from", "to", "items", "count"],
                        "properties": {
                            "from": DATE,
                            "to": DATE,
                            "count": {"type": "integer"},
                            "items": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": [
                                        "unit_id",
                                        "name",
                                        "short_name",
                                        "active",
                                        "events_registered",
                                        "events_attended",
                                        "people_registered",
                                        "people_attended",
                                        "jp_total",
                                    ],
                                    "properties": {
                                        "unit_id": {"type": "integer"},
                                        "name": {"type": "string"},
                                        "short_name": {"type": "string"},
                                        "active": {"type": "boolean"},
                                        "events_registered": {"type": "integer"},
                                        "events_attended": {"type": "integer"},
                                        "people_registered": {"type": "integer"},
                                        "people_attended": {"type": "integer"},
                                        "jp_total": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                ),
                **errors(401, 403, 422, 500),
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "Dokumen OpenAPI ini",
            "security": OPTIONAL_BEARER,
            "responses": {
                "200": ok("Dokumen OpenAPI 3.1.", {"type": "object"}),
                **errors(401),
            },
        },
    },
}


def add(paths: dict[str, dict], schemas: dict[str, dict] | None = None) -> None:
    """Add a feature's paths and schemas; a name already taken is a programming error."""
    for target, new in ((PATHS, paths), (SCHEMAS, schemas or {})):
        taken = set(target) & set(new)
        if taken:
            raise ValueError(f"OpenAPI entries already defined: {sorted(taken)}")
        target.update(new)


def document() -> dict:
    """The whole OpenAPI document (a fresh copy: callers may change it freely)."""
    return deepcopy(
        {
            "openapi": OPENAPI_VERSION,
            "info": INFO,
            "servers": [{"url": "/api/v1"}],
            "security": OPTIONAL_BEARER,
            "paths": PATHS,
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "Token dari `flask --app app create-token`.",
                    }
                },
                "schemas": SCHEMAS,
                "responses": RESPONSES,
            },
        }
    )


def openapi_json():
    """GET /api/v1/openapi.json (public)."""
    return document()
