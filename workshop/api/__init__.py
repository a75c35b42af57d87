"""JSON API under /api/v1 (bearer-token authentication, described by openapi.json).

This module is the API's table of contents: the blueprint, its authentication hook,
its error handlers and every route. The view functions live in one module per
resource and never import ``bp``, so there is no import cycle. Every route must also
be described in ``openapi.PATHS`` (a test checks both lists agree).
"""

from flask import Blueprint
from flask_babel import gettext as _

from workshop.api import auth, checkins, events, openapi, registrations, units
from workshop.api import certificates as certificate_api
from workshop.api import reports as report_views
from workshop.api.schemas import ApiError
from workshop.errors import json_error
from workshop.models import db
from workshop.services.errors import DomainError, ValidationError

bp = Blueprint("api", __name__)
bp.before_request(auth.load_token_user)

ROUTES = [
    # (rule, endpoint, view, methods)
    ("/events", "list_events", events.list_events, ["GET"]),
    ("/events", "create_event", events.create_event, ["POST"]),
    ("/events/<int:event_id>", "event_detail", events.event_detail, ["GET"]),
    ("/events/<int:event_id>", "update_event", events.update_event, ["PATCH"]),
    (
        "/events/<int:event_id>/registrations",
        "list_registrations",
        registrations.list_registrations,
        ["GET"],
    ),
    (
        "/events/<int:event_id>/registrations",
        "create_registration",
        registrations.create_registration,
        ["POST"],
    ),
    (
        "/registrations/<int:registration_id>",
        "registration_detail",
        registrations.registration_detail,
        ["GET"],
    ),
    (
        "/registrations/<int:registration_id>/cancel",
        "cancel_registration",
        registrations.cancel_registration,
        ["POST"],
    ),
    ("/checkins", "create_checkin", checkins.create_checkin, ["POST"]),
    ("/checkins/<int:checkin_id>", "delete_checkin", checkins.delete_checkin, ["DELETE"]),
    ("/events/<int:event_id>/attendance", "event_attendance", checkins.event_attendance, ["GET"]),
    (
        "/events/<int:event_id>/certificates",
        "issue_certificates",
        certificate_api.issue_certificates,
        ["POST"],
    ),
    (
        "/registrations/<int:registration_id>/certificate.pdf",
        "registration_certificate",
        certificate_api.registration_certificate,
        ["GET"],
    ),
    (
        "/certificates/<path:number_or_id>/revoke",
        "revoke_certificate",
        certificate_api.revoke_certificate,
        ["POST"],
    ),
    (
        "/certificates/verify/<code>",
        "verify_certificate",
        certificate_api.verify_certificate,
        ["GET"],
    ),
    ("/units", "list_units", units.list_units, ["GET"]),
    ("/reports/units", "unit_report", report_views.unit_report, ["GET"]),
    ("/openapi.json", "openapi", openapi.openapi_json, ["GET"]),
]
for rule, endpoint, view, methods in ROUTES:
    bp.add_url_rule(rule, endpoint, view, methods=methods)


@bp.errorhandler(ApiError)
def handle_api_error(exc: ApiError):
    db.session.rollback()
    return json_error(exc.status, exc.message, exc.error, exc.fields)


@bp.errorhandler(ValidationError)
def handle_validation_error(exc: ValidationError):
    db.session.rollback()  # nothing half-written
    return json_error(422, _("Periksa kembali data yang dikirim."), "invalid", exc.fields)


@bp.errorhandler(DomainError)
def handle_domain_error(exc: DomainError):
    db.session.rollback()
    return json_error(exc.status, exc.message or _("Permintaan ditolak."), exc.code)
