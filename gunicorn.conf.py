"""gunicorn settings, read from the project root (gunicorn loads ./gunicorn.conf.py by
default), for the serving commands in the README and the benchmarks.

Command-line options (workers, bind, TLS) still come from the command.
"""

import gc


def post_worker_init(worker):
    """Once a worker has loaded the app, move what loading made (SQLAlchemy's mappers and
    cached statements, templates, translations: several hundred thousand objects) out of
    the garbage collector's reach. A full collection then walks only what requests
    leave behind, instead of pausing the worker for a tenth of a second or more every
    few hundred requests."""
    gc.freeze()
