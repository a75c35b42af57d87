"""Signing in and out, changing one's own password, choosing the interface language."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME

from workshop.auth.forms import ChangePasswordForm, LanguageForm, LoginForm
from workshop.extensions import db, limiter
from workshop.services import users
from workshop.services.errors import ValidationError
from workshop.services.locking import deferred_reads

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site ("/events?x=1"), else None.

    Rejects absolute URLs, scheme-relative ones ("//evil.example") and backslashes,
    which browsers read as slashes ("/\\evil.example").
    """
    if not target or "\\" in target or any(ord(c) < 0x21 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    """Where a user lands after signing in: their work page, else the event list."""
    if (
        user.is_authenticated
        and user.is_organizer
        and "organizer.events" in current_app.view_functions
    ):
        return url_for("organizer.events")
    return url_for("public.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@deferred_reads  # writes nothing; the slow password check must not hold SQLite's lock
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    login_failed = False
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash(_("Selamat datang, %(name)s.", name=user.name), "success")
            target = safe_next(form.next.data or request.args.get("next"))
            return redirect(target or home_for(user))
        login_failed = True
    # Never keep the password in the page; the email stays as typed.
    form.password.data = None
    if form.email.data and not form.email.errors:
        # The email is usually right: put the cursor where the retyping happens.
        form.email.render_kw = {**form.email.render_kw, "autofocus": False}
        form.password.render_kw = {**form.password.render_kw, "autofocus": True}
    return render_template("auth/login.html", form=form, login_failed=login_failed)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Keep the interface language the user chose for the signed-out pages too.
        if current_user.locale:
            session["lang"] = current_user.locale
        logout_user()
        flash(_("Anda telah keluar."), "info")
    return redirect(url_for("public.index"))


def _remember_cookie() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            users.change_own_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as exc:
            db.session.rollback()
            targets = {"current_password": form.current_password, "password": form.new_password}
            for name, messages in exc.fields.items():
                field = targets.get(name, form.new_password)
                field.errors = [*field.errors, *messages]
        else:
            db.session.commit()
            # The new password ended every session of the account: keep this one.
            login_user(
                current_user._get_current_object(), remember=_remember_cookie() in request.cookies
            )
            flash(_("Kata sandi berhasil diubah. Sesi lain akun ini telah diakhiri."), "success")
            return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("public.index")
    lang = form.lang.data
    if form.validate() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(target)
