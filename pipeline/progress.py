"""Progress on stderr: a live bar when a person is watching, nothing otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    """Documents, MB/s and errors so far, refreshed at most a few times a second."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._start = time.perf_counter()
        self._last = 0.0

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("starting")
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, result) -> None:
        if self._bar is None:
            return
        now = time.perf_counter()
        if now - self._last < 0.2:
            return
        self._last = now
        rate = result.bytes_read / 1e6 / max(now - self._start, 1e-9)
        self._bar.update(
            self._task,
            description=f"documents {result.documents} · {rate:.2f} MB/s · errors {len(result.errors)}"
            + (f" · skipped {result.skipped}" if result.skipped else "")
            + (f" · identical {result.duplicates}" if result.duplicates else ""),
        )
