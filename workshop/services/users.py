"""Accounts: creating users, changing passwords and roles, issuing API tokens."""

import re
import secrets
from dataclasses import dataclass
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.extensions import request_connection
from workshop.models import ApiToken, Role, User, db
from workshop.services import audit, pipeline
from workshop.services.errors import DomainError, ValidationError

PASSWORD_MIN = 8
PASSWORD_MAX = 200


# A plain local part (letters, digits, . _ % + -; no dot first, last or twice): always a
# valid dot-atom, which email_validator keeps as it is.
_PLAIN_LOCAL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*")
_known_domains: set[str] = set()  # domains email_validator accepted, lower-cased


def normalise_email(email: str) -> str:
    """Lower-cased, validated syntax (no DNS lookup: the LAN may be offline).

    A plain address at a domain already validated is accepted without asking
    email_validator again (its domain checks, through idna, are most of a registration's
    validation, and a regency's participants share a few domains)."""
    email = email.strip()
    local, at, domain = email.lower().rpartition("@")
    if (
        at
        and domain in _known_domains
        and len(local) <= 64
        and len(email) <= 254
        and _PLAIN_LOCAL.fullmatch(local)
    ):
        return f"{local}@{domain}"
    try:
        normalised = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError({"email": [str(_l("Alamat email tidak valid."))]}) from exc
    if len(_known_domains) < 10_000 and normalised.isascii():
        _known_domains.add(normalised.rpartition("@")[2])
    return normalised


def password_problem(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return str(_l("Kata sandi minimal %(min)d karakter.", min=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        return str(_l("Kata sandi paling banyak %(max)d karakter.", max=PASSWORD_MAX))
    return None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str, name: str, role: Role | str, password: str, actor: User | None = None
) -> User:
    """Add a user. Raises ValidationError for a bad or taken email, empty name, weak password."""
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except ValidationError as exc:
        errors.update(exc.fields)
    else:
        if find_by_email(email):
            errors["email"] = [str(_l("Email ini sudah dipakai akun lain."))]
    name = name.strip()
    if not name or len(name) > 200:
        errors["name"] = [str(_l("Nama wajib diisi, paling banyak 200 karakter."))]
    if role not in set(Role):
        errors["role"] = [str(_l("Peran tidak dikenal."))]
    if problem := password_problem(password):
        errors["password"] = [problem]
    if errors:
        raise ValidationError(errors)
    user = User(email=email, name=name, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", user, role=str(role))
    return user


def update_user(user: User, *, name: str, role: Role | str, active: bool, actor: User) -> User:
    """Change a user's name, role or active flag. An admin cannot demote or lock themself."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError({"name": [str(_l("Nama wajib diisi, paling banyak 200 karakter."))]})
    if user.id == actor.id and (role != Role.ADMIN or not active):
        raise DomainError(
            str(_l("Anda tidak dapat mencabut peran admin atau menonaktifkan akun sendiri.")),
            code="self_lockout",
        )
    changes = {}
    if user.role != role:
        changes["role"] = [str(user.role), str(role)]
    if user.active != active:
        changes["active"] = active
    user.name, user.role, user.active = name, Role(role), active
    audit.record(actor, "user.update", user, **changes)
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Set a new password (admin reset or CLI). Raises ValidationError if too weak."""
    if problem := password_problem(password):
        raise ValidationError({"password": [problem]})
    user.set_password(password)
    audit.record(actor, "user.password", user)


def change_own_password(user: User, current: str, new: str) -> None:
    """The user changes their own password; the current one must be right."""
    if not user.check_password(current):
        raise ValidationError({"current_password": [str(_l("Kata sandi saat ini salah."))]})
    set_password(user, new, actor=user)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (never says which was wrong)."""
    user = find_by_email(email)
    if user is None:
        # Spend the same time as a real check so timing does not reveal the account.
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def issue_token(user: User, name: str | None = None) -> str:
    """A new API token for ``user``; only its hash is stored. Returns the plain token."""
    row, plain = ApiToken.issue(user, name)
    db.session.add(row)
    db.session.flush()
    audit.record(user, "token.create", row)
    return plain


@dataclass(frozen=True)
class TokenUser:
    """Who an API token belongs to, read as one Core row: what every API request needs
    (role, permission checks, rate-limit keys, "scanned by") without building the ORM
    User. Duck-types the User attributes the permission rules read."""

    id: int
    role: str
    name: str
    active: bool = True
    is_authenticated = True


_T, _USER = ApiToken.__table__, User.__table__
_TOKEN_USER = pipeline.Pipelined(
    db.select(_USER.c.id, _USER.c.role, _USER.c.name)
    .select_from(_T.join(_USER, _USER.c.id == _T.c.user_id))
    .where(_T.c.token_hash == db.bindparam("token_hash"), _USER.c.active.is_(True))
)


def user_for_token(plain: str) -> TokenUser | None:
    """The active user a plain token belongs to, or None. Every API request starts here:
    one Core statement (on PostgreSQL sent with the transaction's BEGIN, one round trip)."""
    [rows] = pipeline.run(request_connection(), (_TOKEN_USER, {"token_hash": ApiToken.hash(plain)}))
    return TokenUser(rows[0].id, rows[0].role, rows[0].name) if rows else None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))
