"""Registration pages: the public form, the private manage page, "My events"."""

from flask import Blueprint, abort, render_template

from workshop.services import registration as registrations

bp = Blueprint("registration", __name__)


@bp.get("/r/<token>")
def manage(token: str):
    reg = registrations.by_manage_token(token)
    if reg is None:
        abort(404)
    return render_template("registration/manage.html", reg=reg)
