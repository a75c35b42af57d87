"""Certificates: the organizer's settings and issuing pages, downloads, public verification.

``verify_rate_limit`` is one budget per client address shared by the verification page
and the JSON verification endpoint (VERIFY_RATE_LIMIT, default 30 per minute).
"""

from flask import current_app

from workshop.extensions import limiter


def _verify_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT", "30 per minute")


verify_rate_limit = limiter.shared_limit(_verify_limit, scope="certificate-verify")
