"""Entry point: `flask --app app run`, `gunicorn app:app`."""

from workshop import create_app

app = create_app()
