"""WSGI entry point for gunicorn: ``gunicorn 'backend.wsgi:app'``."""

import gc

from . import create_app

app = create_app()

# Everything loaded so far (Flask, SQLAlchemy, the instrument registry: ~150,000 objects)
# lives as long as the worker. Moved out of the collector's reach, a full collection looks
# only at what requests leave behind: a few milliseconds instead of about 50, which is a
# pause every request queued behind it would otherwise wait out.
gc.freeze()
