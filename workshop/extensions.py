"""Bare extension instances, initialised in create_app(). Imports nothing from workshop."""

import threading
import time
from typing import ClassVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints from day one so that migrations can alter and drop them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


class SweepingMemoryStorage(MemoryStorage):
    """The limits library's in-process storage (``memory://``) without its timer thread.

    ``MemoryStorage`` starts a new thread 10 ms after every hit to drop expired counters,
    unless one is still pending; a server answering a request every few milliseconds per
    process started a thread for almost every request and waited for it to start (8% of
    a registration's time under load). Every read already drops its own expired counter;
    here the sweep for counters nobody reads again runs in the calling thread, at most
    once a second. The default storage (``RATELIMIT_STORAGE_URI``:
    ``sweeping-memory://``); ``redis://…`` for several servers."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["sweeping-memory"]
    SWEEP_EVERY = 1.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the private scheduler
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()
