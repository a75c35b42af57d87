"""JSON API under /api/v1 (bearer-token authentication, described by openapi.json).

This module is the API's table of contents: the blueprint, its authentication hook,
its error handlers and every route. The view functions live in one module per
resource and never import ``bp``, so there is no import cycle. Every route must also
be described in ``openapi.PATHS`` (a test checks both lists agree).
"""

from flask import Blueprint
from flask_babel import gettext as _

from workshop.api import auth, events, openapi, units
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
    ("/units", "list_units", units.list_units, ["GET"]),
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
