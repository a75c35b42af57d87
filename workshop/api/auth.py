"""Bearer-token authentication for the JSON API.

The API is CSRF-exempt, so it must never accept the session cookie: a browser that is
logged in to the pages is still anonymous here. The caller is whoever the
``Authorization: Bearer <token>`` header names, or nobody.
"""

from functools import wraps

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from workshop import throttle
from workshop.errors import json_error
from workshop.extensions import db
from workshop.models import Role, User
from workshop.services.users import TokenUser, user_for_token

MISSING_TOKEN = _l("Token API wajib dikirim di header Authorization: Bearer <token>.")
INVALID_TOKEN = _l("Token API tidak valid atau sudah tidak berlaku.")
FORBIDDEN = _l("Peran Anda tidak diizinkan melakukan tindakan ini.")


def unauthorized(message, error: str = "unauthorized", challenge: str = "Bearer"):
    response = json_error(401, message, error)
    response.headers["WWW-Authenticate"] = challenge
    return response


def load_token_user():
    """before_request: set ``g.api_identity`` from the bearer token (None when none is sent).

    A header that is present but wrong (another scheme, an empty or unknown token, a
    deactivated user) is answered 401 on every endpoint, public ones included, so that a
    client with a bad token notices instead of silently seeing the anonymous view.
    """
    g.api_identity = None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    identity = user_for_token(token) if scheme.lower() == "bearer" and token else None
    if identity is None:
        return unauthorized(INVALID_TOKEN, "invalid_token", 'Bearer error="invalid_token"')
    g.api_identity = identity
    return None


def api_identity() -> TokenUser | None:
    """Who the bearer token belongs to (id, role, name), without an ORM object: enough for
    permission checks, and all the door's scans need."""
    return g.get("api_identity")


def api_user() -> User | None:
    """The User the bearer token belongs to (loaded on first use); None for an anonymous
    caller."""
    identity = api_identity()
    if identity is None:
        return None
    if "api_user" not in g:
        g.api_user = db.session.get(User, identity.id)
    return g.api_user


def token_required(*roles: Role):
    """The caller must send a valid token (else 401) and, if ``roles`` are given, have one
    of them (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_identity()
            if user is None:
                return unauthorized(MISSING_TOKEN)
            if roles and user.role not in roles:
                return json_error(403, FORBIDDEN)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_token_required = token_required(Role.ADMIN, Role.ORGANIZER)


# --- rate limits for token users ----------------------------------------------------


def token_user_key() -> str:
    """Rate-limit key: the token's user (one budget per account, whichever device or
    address it calls from); the client address for anonymous callers."""
    user = api_identity()
    return f"api-user:{user.id}" if user is not None else f"api-ip:{get_remote_address()}"


def _api_rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "3000 per minute")


# One shared budget per user for the organizer endpoints, far above the public form's
# per-address limit: registering 1,000 people through the API in a minute is not throttled.
# Put it below the token decorator, so that refused callers do not spend the budget.
organizer_rate_limit = throttle.budget(_api_rate_limit, "api-organizer", token_user_key)
