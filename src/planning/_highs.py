"""HiGHS's banner kept out of standard output.

HiGHS (``highspy``) writes a banner to the process's standard output when the first solver of
a process is made, before its output can be turned off: into a report notebook, or among the
figures a command prints. :func:`quiet_banner` makes that first solver with the output sent to
the null device, once per process. The optimiser and the disclosure audit both call it.
"""

from __future__ import annotations

import os
import sys
import threading

_lock = threading.Lock()
_done = False


def quiet_banner() -> None:
    """Make the process's first HiGHS solver with standard output sent to the null device.

    Once per process, and safe from several threads. The redirect is of file descriptor 1, so
    for that moment it is process-wide: another thread's output in that moment is lost.
    """
    global _done
    with _lock:
        if _done:
            return
        _done = True
        try:
            import highspy
        except ImportError:  # pragma: no cover - a dependency; the solve then says what is missing
            return
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no file descriptor 1: nothing to keep clean
            return
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
