"""The app as the concurrency tests serve it under gunicorn, configured from the environment.

WORKSHOP_LIVE_DATABASE_URL, WORKSHOP_LIVE_SECRET_KEY, WORKSHOP_LIVE_MAIL_DIR and,
optionally, WORKSHOP_LIVE_FIXED_NOW (ISO 8601: the clock the tests' data expects) and
WORKSHOP_LIVE_MAIL_ATTACHMENTS=0: mails are still queued, written and recorded after
every registration, but without the PDF ticket and calendar file, whose rendering is
CPU work (about 0.1 s per mail) that a race between transactions does not exercise.
Every answer carries the worker's process id in ``X-Worker-Pid``, so a test can show that
several processes really served it.
"""

import os
from datetime import datetime

from workshop import create_app


def live_config() -> dict:
    config = {
        "SQLALCHEMY_DATABASE_URI": os.environ["WORKSHOP_LIVE_DATABASE_URL"],
        "SECRET_KEY": os.environ["WORKSHOP_LIVE_SECRET_KEY"],
        "RATELIMIT_ENABLED": False,
        "MAIL_FILE_DIR": os.environ["WORKSHOP_LIVE_MAIL_DIR"],
    }
    if fixed := os.environ.get("WORKSHOP_LIVE_FIXED_NOW"):
        config["FIXED_NOW"] = datetime.fromisoformat(fixed)
    return config


def with_worker_pid(wsgi_app):
    def app(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

        return wsgi_app(environ, start)

    return app


def create_live_app():
    flask_app = create_app(live_config())
    if os.environ.get("WORKSHOP_LIVE_MAIL_ATTACHMENTS") == "0":
        from workshop.services import mail

        mail.KIND_ATTACHMENTS.clear()
    return with_worker_pid(flask_app)


app = create_live_app()
