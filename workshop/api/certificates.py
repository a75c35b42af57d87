"""Certificates in the JSON API: issue for an event, download one, revoke, verify.

Issuing and revoking: the event's organizer and admins (another organizer's event or
certificate is "not found"). A registration's PDF: those two, or the participant it
belongs to (a token whose user is linked to the registration or has its email); anyone
else 404. Verification is public and rate limited per client address, sharing the
budget of the verification page.
"""

from flask import Response, current_app, url_for
from flask_babel import gettext as _

from workshop import clock
from workshop.api import openapi, schemas
from workshop.api.auth import (
    api_user,
    organizer_rate_limit,
    organizer_token_required,
    token_required,
)
from workshop.api.events import event_or_404
from workshop.certificates import verify_rate_limit
from workshop.models import Registration, User, db
from workshop.services import certificate_files, certificates, events
from workshop.services.certificates import Standing
from workshop.services.errors import ValidationError
from workshop.timeutil import to_wib


def _verify_url(code: str) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for("certificates.verify", code=code)
    return url_for("certificates.verify", code=code, _external=True)


def _owns(user: User, reg: Registration) -> bool:
    return reg.user_id == user.id or reg.email.casefold() == user.email.casefold()


@organizer_token_required
@organizer_rate_limit
def issue_certificates(event_id: int):
    """Issue for everyone eligible who has none; answers the counts and the new numbers."""
    event = event_or_404(event_id, manage=True)
    schemas.empty_object()
    result = certificates.issue_certificates(event.id, actor=api_user(), now=clock.now())
    return {
        "issued": len(result.issued),
        "already": result.already,
        "not_eligible": result.not_eligible,
        "numbers": [c.number for c in result.issued],
    }


@token_required()
@organizer_rate_limit
def registration_certificate(registration_id: int):
    """The registration's valid certificate as PDF, or 409 with the reason it has none."""
    user = api_user()
    reg = db.session.get(Registration, registration_id)
    if reg is None or not (events.can_manage(user, reg.event) or _owns(user, reg)):
        raise schemas.ApiError(404, _("Pendaftaran tidak ditemukan."), "not_found")
    status = certificates.status_for(reg, clock.now())
    if status.standing == Standing.ISSUED and status.certificate is not None:
        cert = status.certificate
        data = certificate_files.certificate_pdf(
            cert, government=current_app.config["ORGANIZATION_NAME"], verify_url=_verify_url
        )
        filename = certificate_files.certificate_filename(cert.number, reg.name)
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    error, message = _why_not(status.standing)
    return {
        "error": error,
        "message": message,
        "standing": str(status.standing),
        "missing_days": [d.isoformat() for d in status.missing_days],
    }, 409


def _why_not(standing: Standing) -> tuple[str, str]:
    if standing == Standing.NOT_ELIGIBLE:
        return "not_eligible", _("Kehadiran tidak memenuhi syarat sertifikat.")
    messages = {
        Standing.ELIGIBLE: _("Memenuhi syarat, tetapi sertifikat belum diterbitkan."),
        Standing.NOT_FINISHED: _("Kegiatan belum selesai; syarat kehadiran masih dapat dipenuhi."),
        Standing.NOT_CONFIRMED: _("Pendaftaran tidak terkonfirmasi."),
        Standing.DISABLED: _("Kegiatan ini tidak menerbitkan sertifikat."),
    }
    return "not_issued", messages.get(standing, _("Sertifikat belum diterbitkan."))


@organizer_token_required
@organizer_rate_limit
def revoke_certificate(number_or_id: str):
    """Revoke with a reason; the number stays taken. An ambiguous number is 404."""
    cert = certificates.find(None, number_or_id)
    if cert is None or not events.can_manage(api_user(), cert.event):
        raise schemas.ApiError(404, _("Sertifikat tidak ditemukan."), "not_found")
    body = schemas.json_object()
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError({"reason": [_("Alasan harus berupa teks.")]})
    certificates.revoke(cert, reason=reason or "", actor=api_user(), now=clock.now())
    db.session.commit()
    return certificate_json(cert)


@verify_rate_limit
def verify_certificate(code: str):
    """Public: is the certificate with this code valid, revoked, or unknown (404)?"""
    cert = certificates.verify(code)
    if cert is None:
        return {
            "valid": False,
            "status": "not_found",
            "name": None,
            "role": None,
            "event": None,
            "date": None,
            "dates": [],
            "number": None,
            "revoked_at": None,
            "error": "not_found",
            "message": _("Tidak ada sertifikat dengan kode ini."),
        }, 404
    days = cert.event.day_dates or [to_wib(cert.event.starts_at).date()]
    return {
        "valid": cert.is_valid,
        "status": "valid" if cert.is_valid else "revoked",
        "name": cert.registration.name,
        "role": str(cert.role),
        "event": cert.event.title,
        "date": days[0].isoformat(),
        "dates": [d.isoformat() for d in days],
        "number": cert.number,
        "revoked_at": schemas.iso_wib(cert.revoked_at),
    }


def certificate_json(cert) -> dict:
    return {
        "id": cert.id,
        "event_id": cert.event_id,
        "registration_id": cert.registration_id,
        "number": cert.number,
        "role": str(cert.role),
        "hours": cert.hours,
        "verification_code": cert.verification_code,
        "issued_at": schemas.iso_wib(cert.issued_at),
        "revoked_at": schemas.iso_wib(cert.revoked_at),
        "revoked_reason": cert.revoked_reason,
    }


# --- OpenAPI -----------------------------------------------------------------------

NULLABLE_TEXT = openapi.nullable({"type": "string"})
ROLE = {"type": "string", "enum": ["participant", "speaker", "committee"]}

SCHEMAS = {
    "CertificateIssueResult": {
        "type": "object",
        "required": ["issued", "already", "not_eligible", "numbers"],
        "properties": {
            "issued": {"type": "integer", "description": "Sertifikat yang baru diterbitkan."},
            "already": {"type": "integer", "description": "Sudah punya sertifikat berlaku."},
            "not_eligible": {
                "type": "integer",
                "description": "Belum atau tidak memenuhi syarat (termasuk yang belum "
                "terkonfirmasi).",
            },
            "numbers": {
                "type": "array",
                "items": {"type": "string"},
                "examples": [["001/SERT/BAPPEDA/III/2018"]],
            },
        },
    },
    "CertificateNotIssued": {
        "type": "object",
        "required": ["error", "message", "standing", "missing_days"],
        "properties": {
            "error": {"type": "string", "enum": ["not_eligible", "not_issued"]},
            "message": {"type": "string"},
            "standing": {
                "type": "string",
                "enum": ["eligible", "not_eligible", "not_finished", "not_confirmed", "disabled"],
            },
            "missing_days": {
                "type": "array",
                "items": openapi.DATE,
                "description": "Hari kegiatan tanpa presensi.",
            },
        },
    },
    "CertificateRevokeInput": {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}},
    },
    "Certificate": {
        "type": "object",
        "required": [
            "id",
            "event_id",
            "registration_id",
            "number",
            "role",
            "hours",
            "verification_code",
            "issued_at",
            "revoked_at",
            "revoked_reason",
        ],
        "properties": {
            "id": {"type": "integer"},
            "event_id": {"type": "integer"},
            "registration_id": {"type": "integer"},
            "number": {"type": "string"},
            "role": ROLE,
            "hours": openapi.nullable({"type": "integer"}),
            "verification_code": {"type": "string"},
            "issued_at": openapi.DATETIME,
            "revoked_at": openapi.nullable(openapi.DATETIME),
            "revoked_reason": NULLABLE_TEXT,
        },
    },
    "CertificateVerification": {
        "type": "object",
        "required": ["valid", "status", "name", "role", "event", "date", "number", "revoked_at"],
        "properties": {
            "valid": {"type": "boolean"},
            "status": {"type": "string", "enum": ["valid", "revoked", "not_found"]},
            "name": NULLABLE_TEXT,
            "role": openapi.nullable(ROLE),
            "event": NULLABLE_TEXT,
            "date": openapi.nullable(openapi.DATE),
            "dates": {"type": "array", "items": openapi.DATE},
            "number": NULLABLE_TEXT,
            "revoked_at": openapi.nullable(openapi.DATETIME),
            "error": {"type": "string", "description": "Hanya untuk not_found."},
            "message": {"type": "string", "description": "Hanya untuk not_found."},
        },
    },
}

RATE_LIMITED = {
    "description": "Terlalu banyak permintaan (error: rate_limited).",
    "content": openapi.json_content(openapi.ref("Error")),
}
MANAGERS = (
    "Penyelenggara pemilik kegiatan dan admin; petugas dan peserta 403; kegiatan "
    "penyelenggara lain 404."
)

PATHS = {
    "/events/{event_id}/certificates": {
        "parameters": [openapi.EVENT_ID],
        "post": {
            "operationId": "issueCertificates",
            "summary": "Terbitkan sertifikat untuk semua yang memenuhi syarat",
            "description": (
                MANAGERS + " Nomor diberikan menurut urutan nama dan tidak pernah dipakai "
                "ulang. Badan permintaan: objek JSON kosong (boleh tanpa badan). "
                "Sertifikat belum diaktifkan: 409 certificates_disabled."
            ),
            "security": openapi.BEARER,
            "requestBody": {
                "required": False,
                "content": openapi.json_content({"type": "object", "additionalProperties": False}),
            },
            "responses": {
                "200": openapi.ok(
                    "Jumlah yang diterbitkan.", openapi.ref("CertificateIssueResult")
                ),
                **openapi.errors(400, 401, 403, 404, 409, 422, 500),
            },
        },
    },
    "/registrations/{registration_id}/certificate.pdf": {
        "parameters": [
            {
                "name": "registration_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer"},
            }
        ],
        "get": {
            "operationId": "getRegistrationCertificate",
            "summary": "Sertifikat satu pendaftaran (PDF)",
            "description": (
                "Penyelenggara kegiatan, admin, atau peserta pemilik pendaftaran (akun yang "
                "tertaut atau ber-email sama); selain itu 404. Tanpa sertifikat berlaku: 409 "
                "not_eligible (kehadiran tidak memenuhi syarat) atau not_issued, dengan "
                "hari yang tidak tercatat hadir."
            ),
            "security": openapi.BEARER,
            "responses": {
                "200": {
                    "description": "PDF A4 mendatar.",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "409": openapi.ok(
                    "Belum ada sertifikat yang berlaku.", openapi.ref("CertificateNotIssued")
                ),
                **openapi.errors(401, 404, 500),
            },
        },
    },
    "/certificates/{number_or_id}/revoke": {
        "parameters": [
            {
                "name": "number_or_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "Id, atau nomor sertifikat (garis miring boleh apa "
                "adanya atau %2F). Nomor yang dipakai di beberapa "
                "kegiatan: 404.",
            }
        ],
        "post": {
            "operationId": "revokeCertificate",
            "summary": "Cabut sertifikat dengan alasan",
            "description": MANAGERS + " Nomor tetap terpakai. Sudah dicabut: 409 "
            "already_revoked; tanpa alasan: 422.",
            "security": openapi.BEARER,
            "requestBody": openapi.body(openapi.ref("CertificateRevokeInput")),
            "responses": {
                "200": openapi.ok("Sertifikat setelah dicabut.", openapi.ref("Certificate")),
                **openapi.errors(400, 401, 403, 404, 409, 422, 500),
            },
        },
    },
    "/certificates/verify/{code}": {
        "parameters": [
            {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "get": {
            "operationId": "verifyCertificate",
            "summary": "Verifikasi sertifikat (publik)",
            "description": (
                "Tanpa token. Hanya data yang tertera pada sertifikat (tanpa email, telepon, "
                "atau NIP). Dibatasi per alamat klien (VERIFY_RATE_LIMIT, bawaan 30 per "
                "menit, bersama halaman /verify)."
            ),
            "security": openapi.OPTIONAL_BEARER,
            "responses": {
                "200": openapi.ok(
                    "Sertifikat dikenal: valid atau revoked.",
                    openapi.ref("CertificateVerification"),
                ),
                "404": openapi.ok(
                    "Kode tidak dikenal (status not_found).", openapi.ref("CertificateVerification")
                ),
                "429": RATE_LIMITED,
                **openapi.errors(401, 500),
            },
        },
    },
}

openapi.add(PATHS, SCHEMAS)
