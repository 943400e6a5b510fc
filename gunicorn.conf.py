"""gunicorn's settings for the web role. gunicorn reads this file from its working directory: the image's
CMD, docker-compose's `web` service and bench/list_bench.py all start it in the repository root, so the
three run the same workers.

Workers: one per CPU plus one, rather than gunicorn's rule of thumb for requests that wait (2 x CPUs + 1).
A console request here is CPU-bound: its queries and Redis reads answer in about a millisecond of its
six or so. With more workers than that, the extra ones only take turns on the same CPUs, and a request
that waits in a worker for its turn waits longer, and less evenly, than one waiting in the listen queue,
which is served in order. bench/list_bench.py at 5,000 cameras on 2 CPUs, 20 clients: the camera list's
p95 had a median of 153 ms over 11 runs with 3 workers and 169 ms over 9 runs with 5, at the same
throughput (docs/performance.md, "gunicorn's workers"). `WEB_CONCURRENCY` (gunicorn's own variable)
sets the number, e.g. for a host whose CPUs the container may not all use.
"""

import os


def _cpus() -> int:
    """The CPUs this process may run on (a cpuset limits it; os.cpu_count() counts the whole host)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or _cpus() + 1)
