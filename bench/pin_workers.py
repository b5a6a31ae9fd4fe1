"""gunicorn settings for ``bench.submissions --pin-workers``: each worker on its own core.

Not the conditions the submission target was set under, and not how Ebb is deployed. It
takes out one source of noise on a small machine (the scheduler putting both workers, or a
worker and the load generator, on one core) so the team can see how much of the gap is
placement: ``-c python:bench.pin_workers``, given to both servers alike.
"""

import os


def post_fork(server, worker):
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[(worker.age - 1) % len(cores)]})
