"""Absolute URLs for mail and QR codes, inside or outside a request."""

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, _base: str | None = None, **values) -> str:
    """The absolute URL of ``endpoint`` under ``_base`` (a site address kept from an
    earlier request, e.g. with a queued mail) when given; else from the request's host when
    there is one, else from the BASE_URL setting (CLI commands, background sending)."""
    if _base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = _base or current_app.config.get("BASE_URL") or "http://127.0.0.1:5000"
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + path
