"""The current time, fixed by config in tests (FIXED_NOW) so no test depends on today."""

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    fixed = current_app.config.get("FIXED_NOW")
    return fixed if fixed is not None else datetime.now(UTC)
