"""A warm Jupyter kernel per worker for scheduled reports (issue 15, "lighter reports").

Papermill still runs every report notebook, through the ``planning-warm`` engine registered
here (:func:`engine_name`). What changes is the kernel: a cold run starts a kernel per report
(about 0.7 s) in which the notebook re-imports pandas, geopandas, scipy, folium and this package
(about 2.8 s, more than the report's own computation for most authorities). With the warm
engine each worker thread keeps one started kernel and its client, and runs report after report
in it, so the imports and the national data read at first use are paid once per worker.

Isolation between the reports that share a kernel:

- before each report the kernel's namespace is emptied with IPython's
  ``reset(new_session=True)``: every variable, imported name and output history goes, and the
  execution count restarts at 1, so the executed notebook is numbered as a cold run's is;
- warnings are shown again as in a fresh kernel (the "once per location" registry is cleared,
  the kernel's own filters kept), and the working folder is set to the report's staging folder
  (Papermill's ``cwd`` only reaches a kernel when it starts);
- a report whose notebook fails in any way (a cell raised, a cell timed out, the kernel died)
  has its kernel discarded by the caller (:func:`discard_warm_kernel`): the next report starts
  a fresh one, so a failed report leaves nothing behind and a hung kernel is killed;
- a kernel found dead before a report is replaced.

What a kernel keeps between reports is what a Python process keeps: imported modules and their
caches (e.g. the national areas, read once). Report code must not change module state it does
not restore; the package's report code does not (tests/test_schedule_warm.py checks that a
report run after another in a warm kernel equals a cold run of it).

Its users: :mod:`planning.outputs.scheduled_report` runs a report's notebook in the warm kernel
and discards it after a failure; :mod:`planning.outputs.schedule` discards or closes the kernels
when a schedule ends (in this thread, or on every Dask worker).
"""

from __future__ import annotations

import atexit
import logging
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The Papermill engine that runs a notebook in the calling thread's warm kernel.
ENGINE = "planning-warm"

#: Run silently (no execution count, no history) before each report. Names the reset code
#: needs are deleted after it, so the report starts from an empty namespace.
_RESET = """\
__import__("os").chdir({cwd!r})  # first: the last report's folder may have gone
get_ipython().reset(new_session=True, aggressive=False)
import warnings as _planning_warnings
_planning_filters = list(_planning_warnings.filters)
_planning_warnings.resetwarnings()  # marks every module's 'shown once' registry stale
_planning_warnings.filters[:] = _planning_filters
del _planning_warnings, _planning_filters
"""


class WarmKernel:
    """One started kernel (its manager, client and process), reused report after report.

    Parameters
    ----------
    kernel_name : str
        The kernelspec, as Papermill's ``kernel_name``.
    startup_timeout : float
        Seconds the kernel may take to answer once started.
    """

    def __init__(self, kernel_name: str = "python3", *, startup_timeout: float = 60) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
        from traitlets.config import Config

        self.kernel_name = kernel_name
        self.reports = 0
        self.busy = False  # running a report (set and cleared under the registry's lock)
        # the kernel's own folder between reports: never a report's (those are renamed away)
        self.home = Path(tempfile.mkdtemp(prefix="planning-kernel-"))
        # Unix sockets, as cold runs use (see scheduled_report._execute_notebook), in the kernel's
        # own folder: an absolute path, since this process and the kernel do not share a cwd
        self.km = AsyncKernelManager(
            kernel_name=kernel_name,
            config=Config({"KernelManager": {"transport": "ipc", "ip": str(self.home / "ipc")}}),
        )
        self.kc: Any = None
        self.process: subprocess.Popen[bytes] | None = None
        try:
            run_sync(self._start)(startup_timeout)
        except BaseException:
            self.close()
            raise
        logger.debug("started warm kernel %s", self.pid)

    async def _start(self, startup_timeout: float) -> None:
        # As nbclient starts a kernel, on this thread's event loop (the one every later call
        # runs on): IPython history in memory, not in a shared sqlite file.
        await self.km.start_kernel(
            cwd=str(self.home), extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )
        self.process = getattr(self.km.provisioner, "process", None)
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=startup_timeout)
        self.kc.allow_stdin = False

    @property
    def pid(self) -> int | None:
        """The kernel's process id."""
        return None if self.process is None else self.process.pid

    def alive(self) -> bool:
        """Whether the kernel process is still running."""
        return self.process is not None and self.process.poll() is None

    def reset(self, client: Any, cwd: str | Path) -> None:
        """Empty the namespace and move to ``cwd`` before a report (see the module notes).

        ``client`` is the report's Papermill notebook client, whose reply handling (timeouts,
        a kernel that died) is used as for any cell.
        """
        from planning._errors import PlanningError

        msg_id = self.kc.execute(
            _RESET.format(cwd=str(cwd)), silent=True, store_history=False, allow_stdin=False
        )
        reply = client.wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise PlanningError(
                f"could not reset the warm kernel before the report: {content.get('ename')} "
                f"{content.get('evalue')}"
            )
        self.reports += 1

    def close(self) -> None:
        """Kill the kernel (its state is of no further use) and remove its files.

        Synchronous and safe to call from any thread, including an event loop's.
        """
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            with suppress(Exception):
                self.kc.stop_channels()
        if self.process is not None:
            with suppress(Exception):
                self.process.kill()
                self.process.wait(timeout=10)
        with suppress(Exception):
            run_sync(self.km.cleanup_resources)()
        shutil.rmtree(self.home, ignore_errors=True)


_lock = threading.Lock()
#: Warm kernels of this process, by the thread that uses them (a kernel client is not shared
#: between threads: each runs on its thread's event loop).
_kernels: dict[int, WarmKernel] = {}


@cache
def _close_at_exit() -> None:
    """Once per process: close its warm kernels when it exits (a pool worker's normal end)."""
    atexit.register(close_warm_kernels)


@contextmanager
def warm_kernel(
    kernel_name: str = "python3", *, startup_timeout: float = 60
) -> Iterator[WarmKernel]:
    """This thread's warm kernel, started (or replaced, if it died) as needed, marked busy for
    the ``with`` block so that :func:`close_warm_kernels` with ``idle_only`` leaves it alone."""
    key = threading.get_ident()
    with _lock:
        kernel = _kernels.get(key)
    if kernel is not None and (kernel.kernel_name != kernel_name or not kernel.alive()):
        logger.info("replacing warm kernel %s (no longer running)", kernel.pid)
        discard_warm_kernel()
        kernel = None
    if kernel is None:
        _close_at_exit()
        kernel = WarmKernel(kernel_name, startup_timeout=startup_timeout)
    with _lock:
        # (re)registered here: a close_warm_kernels(idle_only=True) may have taken it away
        _kernels[key] = kernel
        kernel.busy = True
    try:
        yield kernel
    finally:
        with _lock:
            kernel.busy = False


def discard_warm_kernel() -> None:
    """Kill this thread's warm kernel, if any: the next report starts a fresh one."""
    with _lock:
        kernel = _kernels.pop(threading.get_ident(), None)
    if kernel is not None:
        kernel.close()


def close_warm_kernels(*, idle_only: bool = False) -> int:
    """Kill the warm kernels of this process; return how many.

    For a worker's exit, or ``dask.distributed.Client.run`` on every worker of a cluster at the
    end of a schedule; with ``idle_only``, a kernel running a report (another schedule's, on a
    shared cluster) is left to finish it.
    """
    with _lock:
        keys = [key for key, kernel in _kernels.items() if not (idle_only and kernel.busy)]
        kernels = [_kernels.pop(key) for key in keys]
    for kernel in kernels:
        kernel.close()
    return len(kernels)


@cache
def engine_name() -> str:
    """Register the warm-kernel engine with Papermill (once) and return its name.

    The engine's own keywords reach it through ``papermill.execute_notebook``: ``kernel_cwd``,
    the report's working folder, and ``notebook_path``, where the executed notebook is saved
    if the run stops half-way. Call Papermill with ``request_save_on_cell_execute=False``: the
    notebook (a few MB with the map) is then written once, not twice per cell.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb
    from papermill.log import logger as papermill_logger
    from papermill.utils import merge_kwargs, remove_args

    class WarmKernelEngine(NBClientEngine):
        """Papermill's nbclient engine, run in the calling thread's :class:`WarmKernel`."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: float = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            cwd = kwargs.pop("kernel_cwd")
            notebook = kwargs.pop("notebook_path")
            # as NBClientEngine does, with the warm kernel's manager and client
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=papermill_logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            with warm_kernel(kernel_name, startup_timeout=start_timeout) as kernel:
                client = PapermillNotebookClient(nb_man, km=kernel.km, **final_kwargs)
                # A client of its own would be started per report and (the manager not being
                # the notebook client's) never stopped; the kernel's one client serves them all.
                client.kc = kernel.kc
                kernel.reset(client, cwd)
                try:
                    return client.execute()
                except BaseException:
                    # Papermill saves this engine's notebook once, at the end, not after every
                    # cell (see engine_name); a run stopped half-way (a cell timed out, the
                    # kernel died) is saved as it stood, as a cold run's would be.
                    with suppress(Exception):
                        write_ipynb(nb_man.nb, notebook)
                    raise

    papermill_engines.register(ENGINE, WarmKernelEngine)
    return ENGINE
