"""What a process tree costs: CPU seconds of a process and everything it started, and the cores it may use.

A recorder is a Python process and one or more ffmpeg children per camera; what it costs is all of them
together. User + system time of the live processes, plus the times of the children already waited for
(an ffprobe per segment, a snapshot, a restarted ffmpeg), which the kernel adds to the parent's
``children_*`` times. Process CPU time, never wall time: a loaded machine makes things slower, not costlier.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def tree_cpu_seconds(root: psutil.Process) -> tuple[float, float]:
    """(the process itself, its descendants) in user + system seconds since they started."""
    own = root.cpu_times()
    children = own.children_user + own.children_system
    for child in root.children(recursive=True):
        try:
            times = child.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        children += times.user + times.system
    return own.user + own.system, children


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> float:
    """The cores this process may run on: its CPU affinity, or a container's CPU quota when lower."""
    try:
        cores = float(len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cores = float(psutil.cpu_count() or 1)
    try:
        quota, period = cgroup.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return max(cores, 0.1)


class TreeLoad:
    """The process tree's CPU load as a fraction of its cores, smoothed over samples.

    ``sample()`` returns the load since the previous sample (an exponential average of the last few),
    or None on the first call. ``cpu`` and ``clock`` are passed in so tests can feed a fake load.
    """

    def __init__(
        self,
        *,
        process: psutil.Process | None = None,
        cores: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        smoothing: float = 0.5,
    ) -> None:
        self.process = process or psutil.Process()
        self.cores = cores or usable_cores()
        self.clock = clock
        self.smoothing = smoothing
        self.load: float | None = None
        self._last: tuple[float, float] | None = None

    def cpu_seconds(self) -> float:
        own, children = tree_cpu_seconds(self.process)
        return own + children

    def sample(self) -> float | None:
        now, cpu = self.clock(), self.cpu_seconds()
        if self._last is not None and now > self._last[0]:
            load = max(0.0, cpu - self._last[1]) / (now - self._last[0]) / self.cores
            self.load = load if self.load is None else self.smoothing * load + (1 - self.smoothing) * self.load
        self._last = (now, cpu)
        return self.load
