from flask import Blueprint

bp = Blueprint("organizer", __name__)
