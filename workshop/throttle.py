"""Budgets counted by the app itself, in the same limiter storage as Flask-Limiter's
limits (memory, or Redis with several servers): a caller over one is answered 429 with
Retry-After.

``spend``: budgets spent only by some answers, such as the door's unknown codes.
Flask-Limiter checks a limit before the view runs; a limit that only certain outcomes
may spend would need a lookup of its own before every request (is this code known?), so
the view calls ``spend`` once it knows the outcome.

``budget``: a view decorator spending one per call from a budget shared by every view
with the same scope, for the API's hottest calls (an organizer registering a thousand
people a minute). Flask-Limiter's ``shared_limit`` did the same with a tenth of a
registration's work (resolving, filtering and evaluating its limits before the view,
again for the headers after it).
"""

import time
from collections.abc import Callable
from functools import lru_cache, wraps
from math import ceil

from flask import after_this_request, current_app, request
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from workshop.extensions import limiter

# The door's scans: the page's (camera, handheld scanner, name search) and the API's.
DOOR_SCAN_ENDPOINTS = frozenset(
    {"checkin.scan", "checkin.checkin_registration", "api.create_checkin"}
)


@limiter.request_filter
def _door_scans_skip_request_limits() -> bool:
    """Flask-Limiter's per-request check has no limit to apply to a scan (only unknown
    codes spend a budget, below), so the door's hottest requests skip its work."""
    return request.endpoint in DOOR_SCAN_ENDPOINTS


def spend_unknown_code(user_id: int) -> None:
    """A scan answered "not_found" spends its user's budget of unknown codes (one budget
    for the door page and the API: CHECKIN_NOT_FOUND_LIMIT, default 120 per minute).
    Real tickets never spend it, so a busy door is never slowed."""
    spend(
        current_app.config.get("CHECKIN_NOT_FOUND_LIMIT", "120 per minute"),
        f"checkin-unknown:user:{user_id}",
    )


def spend(limit: str, key: str) -> None:
    """Count one against ``limit`` (e.g. "120 per minute") for ``key``; raise 429 when
    the budget was already spent."""
    if current_app.config.get("RATELIMIT_ENABLED", True):
        _count(_parsed(limit), (key,), tell=False)


@lru_cache(maxsize=64)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def _count(item: RateLimitItem, identifiers: tuple[str, ...], *, tell: bool) -> dict[str, str]:
    """Count one call against ``item`` for ``identifiers``; with ``tell``, the budget's
    X-RateLimit headers (else none). A call over the budget raises BudgetSpent (429 with
    Retry-After, and those headers)."""
    allowed = limiter.limiter.hit(item, *identifiers)
    if allowed and not tell:
        return {}
    reset_at, remaining = limiter.limiter.get_window_stats(item, *identifiers)
    headers = (
        {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset_at)),
        }
        if tell
        else {}
    )
    if not allowed:
        raise BudgetSpent(headers, retry_after=max(1, ceil(reset_at - time.time())))
    return headers


class BudgetSpent(TooManyRequests):
    """429 with Retry-After and the budget's X-RateLimit headers."""

    def __init__(self, headers: dict[str, str], retry_after: int):
        super().__init__(retry_after=retry_after)
        self.budget_headers = headers

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), *self.budget_headers.items()]


def budget(limit: Callable[[], str], scope: str, key: Callable[[], str]):
    """View decorator: each call spends one of ``limit()`` (e.g. "3000 per minute") from
    the budget of ``key()`` (e.g. the caller's account) shared by every view decorated
    with ``scope``. Answers carry X-RateLimit-Limit, -Remaining and -Reset (when
    RATELIMIT_HEADERS_ENABLED, as Flask-Limiter's do); a call over the budget is not run
    and is answered 429 with Retry-After."""

    def decorator(view):
        @wraps(view)
        def spending(*args, **kwargs):
            config = current_app.config
            if not config.get("RATELIMIT_ENABLED", True):
                return view(*args, **kwargs)
            headers = _count(
                _parsed(limit()), (scope, key()), tell=bool(config.get("RATELIMIT_HEADERS_ENABLED"))
            )
            if headers:

                @after_this_request
                def tell(response):  # on the view's answer or its error's
                    response.headers.update(headers)
                    return response

            return view(*args, **kwargs)

        return spending

    return decorator
