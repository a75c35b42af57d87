"""Reports in the JSON API: the per-unit report across events (admins)."""

from flask import request

from workshop.api.auth import token_required
from workshop.models import Role
from workshop.services import reports


@token_required(Role.ADMIN)
def unit_report():
    """GET /reports/units?from=YYYY-MM-DD&to=YYYY-MM-DD: per work unit, events registered
    for and attended, people and JP in the period. Bad or missing dates: 422 per field."""
    first, last = reports.parse_period(request.args.get("from"), request.args.get("to"))
    return reports.unit_period_json(first, last, reports.unit_period_report(first, last))
