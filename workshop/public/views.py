"""Public pages: the event list and event details."""

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template("public/index.html", events=[])
