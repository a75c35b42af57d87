"""JSON API under /api/v1 (token authentication)."""

from flask import Blueprint

bp = Blueprint("api", __name__)
