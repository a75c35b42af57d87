"""Budgets spent only by some answers, such as the door's unknown codes.

Flask-Limiter checks a limit before the view runs; a limit that only certain outcomes
may spend would need a lookup of its own before every request (is this code known?).
``spend`` is called by the view once it knows the outcome: the budget is counted in the
same limiter storage as every other limit (memory, or Redis with several servers), and a
caller over it is answered 429 with Retry-After.
"""

import time
from math import ceil

from flask import current_app, request
from limits import parse
from werkzeug.exceptions import TooManyRequests

from workshop.extensions import limiter

# The door's scans: the page's (camera, handheld scanner, name search) and the API's.
DOOR_SCAN_ENDPOINTS = frozenset(
    {"checkin.scan", "checkin.checkin_registration", "api.create_checkin"})


@limiter.request_filter
def _door_scans_skip_request_limits() -> bool:
    """Flask-Limiter's per-request check has no limit to apply to a scan (only unknown
    codes spend a budget, below), so the door's hottest requests skip its work."""
    return request.endpoint in DOOR_SCAN_ENDPOINTS


def spend_unknown_code(user_id: int) -> None:
    """A scan answered "not_found" spends its user's budget of unknown codes (one budget
    for the door page and the API: CHECKIN_NOT_FOUND_LIMIT, default 120 per minute).
    Real tickets never spend it, so a busy door is never slowed."""
    spend(current_app.config.get("CHECKIN_NOT_FOUND_LIMIT", "120 per minute"),
          f"checkin-unknown:user:{user_id}")


def spend(limit: str, key: str) -> None:
    """Count one against ``limit`` (e.g. "120 per minute") for ``key``; raise 429 when
    the budget was already spent."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item = parse(limit)
    if limiter.limiter.hit(item, key):
        return
    reset_at, _remaining = limiter.limiter.get_window_stats(item, key)
    raise TooManyRequests(retry_after=max(1, ceil(reset_at - time.time())))
