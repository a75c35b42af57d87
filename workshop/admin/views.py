"""Administration: user accounts and roles, work units (SKPD/OPD). Admins only."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_

from workshop.admin.forms import (
    KIND_LABELS,
    ROLE_LABELS,
    UnitForm,
    UnitSearchForm,
    UserCreateForm,
    UserEditForm,
    UserSearchForm,
)
from workshop.models import Role, Unit, User, db
from workshop.permissions import admin_required
from workshop.services import units as units_service
from workshop.services import users as users_service
from workshop.services.errors import DomainError, ValidationError

bp = Blueprint("admin", __name__)

USERS_PER_PAGE = 50


@bp.before_request
@admin_required
def require_admin():
    """Every route here is for admins: anonymous -> login, any other role -> 403."""


def contains(column, text: str):
    """Case-insensitive "column contains text", with LIKE wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def apply_service_errors(form, exc: ValidationError, aliases: dict | None = None) -> None:
    """Put a service's field messages next to the matching form fields."""
    aliases = aliases or {}
    for name, messages in exc.fields.items():
        field = form._fields.get(aliases.get(name, name))
        if field is None:
            for message in messages:
                flash(message, "danger")
        else:
            field.errors = [*field.errors, *messages]


# --- users -----------------------------------------------------------------


@bp.get("/users")
@admin_required
def users():
    search = UserSearchForm(request.args)
    query = db.select(User).order_by(User.name, User.id)
    q = (search.q.data or "").strip()
    if q:
        query = query.where(or_(contains(User.name, q), contains(User.email, q)))
    if search.role.data in set(Role):
        query = query.where(User.role == search.role.data)
    page = db.paginate(query, per_page=USERS_PER_PAGE, max_per_page=USERS_PER_PAGE)
    return render_template(
        "admin/users.html",
        page=page,
        search=search,
        q=q,
        role=search.role.data or "",
        role_labels=ROLE_LABELS,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = users_service.create_user(
                form.email.data,
                form.name.data,
                form.role.data,
                form.password.data,
                actor=current_user,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Pengguna %(name)s berhasil ditambahkan.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    form.password.data = None
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            users_service.update_user(
                user,
                name=form.name.data,
                role=form.role.data,
                active=form.active.data,
                actor=current_user,
            )
            if form.new_password.data:
                users_service.set_password(user, form.new_password.data, actor=current_user)
        except ValidationError as exc:
            db.session.rollback()  # nothing half-saved: name changed but password refused
            apply_service_errors(form, exc, aliases={"password": "new_password"})
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Data pengguna %(name)s berhasil disimpan.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    form.new_password.data = None
    return render_template("admin/user_form.html", form=form, user=user)


# --- units -----------------------------------------------------------------


@bp.get("/units")
@admin_required
def units():
    search = UnitSearchForm(request.args)
    query = db.select(Unit).order_by(Unit.active.desc(), Unit.name)
    q = (search.q.data or "").strip()
    if q:
        query = query.where(or_(contains(Unit.name, q), contains(Unit.short_name, q)))
    rows = list(db.session.scalars(query))
    return render_template(
        "admin/units.html", units=rows, search=search, q=q, kind_labels=KIND_LABELS
    )


def _save_unit(unit: Unit | None):
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        try:
            saved = units_service.save_unit(
                unit,
                name=form.name.data,
                short_name=form.short_name.data,
                kind=form.kind.data,
                active=form.active.data,
                actor=current_user,
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Unit kerja %(name)s berhasil disimpan.", name=saved.name), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit)


@bp.route("/units/new", methods=["GET", "POST"])
@admin_required
def unit_new():
    return _save_unit(None)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@admin_required
def unit_edit(unit_id: int):
    return _save_unit(db.get_or_404(Unit, unit_id))
