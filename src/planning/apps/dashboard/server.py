"""Serving the councillors' dashboard with Voila, locked down.

What a viewer can do is what the widgets let them do, nothing more:

* **No code.** Voila's kernel websocket forwards browser messages to the kernel. The
  :class:`WidgetOnlyConnection` class replaces the default connection (``ServerApp``/``Voila``
  ``kernel_websocket_connection_class``): a message passes only if its type is one the widgets
  need (:data:`ALLOWED_MESSAGE_TYPES`) on the shell or control channel, and a ``comm_open`` only
  for the widget control target. Anything else (``execute_request``, ``complete_request``,
  ``inspect_request``, ``history_request``, stdin replies, ...) is dropped and, when it was a
  request, answered with an error reply saying it is not allowed. Voila 0.5 also passes an
  allow-list to its kernel manager; this class does not rely on that configuration.
* **No files, no JupyterLab.** Voila is started on one notebook (no tree, no contents API), with
  no file served (``file_allowlist`` empty), the source stripped, no template or theme chosen
  from the URL, no tracebacks, and on 127.0.0.1 unless told otherwise. The standalone Voila
  server has no /lab, /tree, /api/contents or /files handlers.
* **No tracebacks back to the page.** Kernel output the widget page has no use for (``stream``
  and ``error`` messages on IOPub, where ipykernel and the comm machinery print the traceback of
  a widget message they could not handle) and any message carrying a Python traceback are
  dropped on their way to the browser and written to the server log instead.
* **A bounded number of kernels.** Every page holds a kernel of its own (about 235 MB resident
  for the Derby dashboard; see README, "Dashboard limits"). :class:`PlanningKernelManager`
  counts the kernels held by pages (the pre-heated pool apart) and the page handler
  (``BoundedVoilaHandler``, see :func:`planning_voila`) answers a page request beyond
  :data:`DEFAULT_MAX_KERNELS` (``--max-kernels``) with a short "busy, try again in a minute"
  page (HTTP 503, ``Retry-After``) instead of starting one more.
* **Kernels of closed pages culled soon.** A kernel with no browser connected (its page closed
  without saying so, or fetched by something that is not a browser) is shut down after
  :data:`DEFAULT_CULL_IDLE_TIMEOUT` seconds idle (``MappingKernelManager.cull_idle_timeout``,
  ``cull_connected=False``); a page left open but untouched keeps its kernel for
  :data:`DEFAULT_CULL_CONNECTED_TIMEOUT` seconds
  (``PlanningKernelManager.cull_connected_timeout``), so idle tabs cannot hold every place.
  A page closed normally shuts its kernel down at once (Voila's front end posts to
  ``voila/api/shutdown`` on ``beforeunload``).
* **No framing by other sites.** Every response carries ``X-Frame-Options: SAMEORIGIN``, like the
  ``frame-ancestors 'self'`` of jupyter_server's Content-Security-Policy, which is kept.
* Widget values are validated in :class:`planning.apps.dashboard.model.Dashboard`.

The server runs as ``python -m planning.apps.dashboard.server`` (:func:`main`: Voila's application with the
page handler and response headers above, built by :func:`planning_voila`); :func:`voila_command`
builds the command.

Authentication is left to the council's reverse proxy (see README, "Councillors' dashboard").
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import os
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from jupyter_core.utils import ensure_async
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from nbformat.sign import NotebookNotary
from traitlets import Integer, List, Unicode

from planning import settings

try:
    from jupyter_client.jsonutil import json_default
except ImportError:  # pragma: no cover - older jupyter_client
    from jupyter_client.jsonutil import date_default as json_default

DASHBOARD_NOTEBOOK = "sufficiency.ipynb"
DEFAULT_PORT = 8866
#: Message types a widget page sends to its kernel; everything else is refused.
ALLOWED_MESSAGE_TYPES = (
    "comm_msg",
    "comm_open",
    "comm_close",
    "comm_info_request",
    "kernel_info_request",
)
#: The only comm a page may open itself: ipywidgets' control comm (fetches widget state).
ALLOWED_COMM_TARGETS = ("jupyter.widget.control",)
#: IOPub messages never sent to the page: a widget page has nowhere to show them, and they are
#: where ipykernel, the comm machinery and logging put the traceback of a message they could
#: not handle (with the server's file paths). They go to the server log instead.
WITHHELD_OUTPUT_TYPES = ("stream", "error")
#: Any kernel message containing this is withheld too (an Output widget capturing an error).
TRACEBACK_MARKER = b"Traceback (most recent call last)"
#: Pages served at once, each with its own kernel (~235 MB resident, ~140 MB of it its own; see
#: README, "Dashboard limits"): 10 viewers plus the pre-heated pool stay under 3 GB on the
#: project's 2-core, 24 GiB machine, and 2 cores build 10 pages in about 12 s.
DEFAULT_MAX_KERNELS = 10
#: Seconds a kernel with no page connected (closed without saying so, or fetched by something
#: that is not a browser) may stay idle; long enough for a slow browser to load the page's
#: scripts and connect after the notebook has run.
DEFAULT_CULL_IDLE_TIMEOUT = 120
DEFAULT_CULL_INTERVAL = 30
#: Seconds a page left open but untouched keeps its kernel (0: for ever).
DEFAULT_CULL_CONNECTED_TIMEOUT = 3600
#: Seconds the busy page asks the browser to wait (``Retry-After``; the page reloads itself).
RETRY_AFTER_S = 60
#: Added to every response of the dashboard server. jupyter_server's Content-Security-Policy
#: (``frame-ancestors 'self'``) is kept; X-Frame-Options says the same to older browsers.
SECURITY_HEADERS = {"X-Frame-Options": "SAMEORIGIN"}
#: Front-end extensions the page loads: the ipywidgets 8 managers and ipyleaflet's map.
FRONT_ENDS = (
    "@jupyter-widgets/jupyterlab-manager",
    "@voila-dashboards/widgets-manager8",
    "jupyter-leaflet",
)
_V1 = "v1.kernel.websocket.jupyter.org"


class WidgetOnlyConnection(ZMQChannelsWebsocketConnection):
    """A kernel websocket connection that carries widget traffic and refuses everything else."""

    allowed_message_types = List(
        Unicode(),
        list(ALLOWED_MESSAGE_TYPES),
        config=True,
        help="Message types passed from the browser to the kernel (shell and control channels).",
    )
    allowed_comm_targets = List(
        Unicode(),
        list(ALLOWED_COMM_TARGETS),
        config=True,
        help="Comm targets the browser may open.",
    )

    def _parse(self, incoming: Any) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        """The channel, header and content of a browser message (either wire protocol)."""
        if self.subprotocol == _V1:
            channel, parts = deserialize_msg_from_ws_v1(incoming)
            header = self.session.unpack(parts[0])
            if not isinstance(header, dict):
                raise ValueError("a kernel message's header is a JSON object")
            content = self.session.unpack(parts[3]) if header.get("msg_type") == "comm_open" else {}
            if not isinstance(content, dict):
                raise ValueError("a kernel message's content is a JSON object")
            return channel, header, content
        msg = (
            deserialize_binary_message(incoming)
            if isinstance(incoming, bytes)
            else json.loads(incoming)
        )
        if not isinstance(msg, dict):
            raise ValueError("a kernel message is a JSON object")
        header, content = msg.get("header") or {}, msg.get("content") or {}
        if not isinstance(header, dict) or not isinstance(content, dict):
            raise ValueError("a kernel message's header and content are JSON objects")
        return msg.get("channel"), header, content

    def refusal(
        self, channel: str | None, header: dict[str, Any], content: dict[str, Any]
    ) -> str | None:
        """Why a browser message must not reach the kernel, or ``None`` if it may."""
        msg_type = header.get("msg_type") if isinstance(header, dict) else None
        if channel not in ("shell", "control", None):
            return f"messages on the {channel!r} channel are not accepted"
        if msg_type not in self.allowed_message_types:
            return f"{msg_type!r} messages are not accepted by this dashboard"
        if msg_type == "comm_open" and content.get("target_name") not in self.allowed_comm_targets:
            return f"comm target {str(content.get('target_name'))[:60]!r} is not accepted"
        return None

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        if not self.channels:
            return super().handle_incoming_message(incoming_msg)
        try:
            channel, header, content = self._parse(incoming_msg)
        except Exception:  # malformed: never forward what cannot be checked
            self.log.warning("Dropped a malformed kernel websocket message")
            return
        reason = self.refusal(channel, header, content)
        if reason is None:
            return super().handle_incoming_message(incoming_msg)
        self.log.warning("Refused kernel websocket message: %s", reason)
        self._reply_refused(channel or "shell", header, reason)

    def _reply_refused(self, channel: str, header: dict[str, Any], reason: str) -> None:
        msg_type = str(header.get("msg_type", ""))
        if not msg_type.endswith("_request") or channel not in ("shell", "control"):
            return
        content: dict[str, Any] = {
            "status": "error",
            "ename": "Forbidden",
            "evalue": f"Refused: {reason}.",
            "traceback": [],
        }
        if msg_type == "execute_request":
            content["execution_count"] = None
        reply = self.session.msg(msg_type[: -len("_request")] + "_reply", content, parent=header)
        if self.subprotocol == _V1:
            self.write_message(
                serialize_msg_to_ws_v1(reply, channel, self.session.pack), binary=True
            )
        else:
            reply["channel"] = channel
            self.write_message(json.dumps(reply, default=json_default))

    def handle_outgoing_message(self, stream: Any, outgoing_msg: list[Any]) -> None:
        """Pass a kernel message to the page unless it is output the page must not see.

        Withheld: IOPub ``stream`` and ``error`` messages (:data:`WITHHELD_OUTPUT_TYPES`) and any
        message whose content holds a Python traceback. They are logged here, for the operator.
        """
        channel = stream if isinstance(stream, str) else getattr(stream, "channel", None)
        try:
            _, parts = self.session.feed_identities(outgoing_msg)
            header = self.session.unpack(parts[1])
            msg_type = header.get("msg_type")
            content = bytes(parts[4])  # type: ignore[arg-type]  # a zmq Frame is a buffer
        except Exception:  # not a kernel message: nothing the page should get
            self.log.warning("Withheld an unreadable kernel message from the page")
            return
        withheld = channel == "iopub" and msg_type in WITHHELD_OUTPUT_TYPES
        if withheld or TRACEBACK_MARKER in content:
            self.log.warning(
                "Withheld kernel %s output from the page (%s): %s",
                self.kernel_id, msg_type, content[:4000].decode("utf-8", "replace"),
            )  # fmt: skip
            return
        super().handle_outgoing_message(stream, outgoing_msg)


class _Admission:
    """One page request admitted under the kernel limit, until its kernel is counted."""

    __slots__ = ()


#: The admission of the page request being served (set by the page handler).
_ADMISSION: contextvars.ContextVar[_Admission | None] = contextvars.ContextVar(
    "planning_voila_admission", default=None
)


class PlanningKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a limit on the kernels pages hold.

    Voila builds its kernel manager (with or without the pre-heated pool) on top of this class
    (``VoilaConfiguration.multi_kernel_manager_class``). The page handler asks :meth:`admit`
    before serving a page; a page is refused when :meth:`page_kernels` has reached
    ``max_kernels``. Kernels waiting in the pre-heated pool are not counted (they are bounded by
    the pool size); a pool kernel counts from the moment a page takes it.
    """

    max_kernels = Integer(
        DEFAULT_MAX_KERNELS,
        config=True,
        help="Pages served at once, each with its own kernel; beyond it a 'busy' page (503).",
    )
    cull_connected_timeout = Integer(
        DEFAULT_CULL_CONNECTED_TIMEOUT,
        config=True,
        help="Seconds of inactivity after which a kernel is culled even with its page still "
        "connected (0: never). Kernels with no page connected follow cull_idle_timeout.",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting: set[_Admission] = set()
        self._starting: set[str] = set()
        self._pool_kernel_of: weakref.WeakKeyDictionary[asyncio.Task[Any], str] = (
            weakref.WeakKeyDictionary()
        )

    def _pool_kernels(self) -> set[str]:
        """Ids of kernels started for the pre-heated pool and not yet taken by a page."""
        pools: dict[str, list[asyncio.Task[Any]]] = getattr(self, "_pools", {})
        return {
            kernel_id
            for pool in pools.values()
            for task in pool
            if (kernel_id := self._pool_kernel_of.get(task)) is not None
        }

    def page_kernels(self) -> int:
        """Kernels held by pages, counting admitted requests whose kernel is not counted yet."""
        running = (set(self._kernels) | self._starting) - self._pool_kernels()
        return len(running) + len(self._waiting)

    def admit(self) -> _Admission | None:
        """A place for one more page, or ``None`` when ``max_kernels`` are held."""
        if self.page_kernels() >= self.max_kernels:
            return None
        admission = _Admission()
        self._waiting.add(admission)
        return admission

    def settle(self, admission: _Admission) -> None:
        """The admitted page's kernel is counted now (or the request ended): stop counting it."""
        self._waiting.discard(admission)

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, **kwargs: Any
    ) -> str:
        env = kwargs.get("env") or {}
        for_pool = str(env.get("VOILA_PREHEAT", "False")) == "True"
        kernel_id = kernel_id or self.new_kernel_id()
        task = asyncio.current_task()
        if for_pool and task is not None:
            # Voila fills the pool from a task it keeps in the pool: remember which kernel it is.
            self._pool_kernel_of[task] = kernel_id
        self._starting.add(kernel_id)
        admission = _ADMISSION.get()
        if admission is not None and not for_pool:
            self.settle(admission)  # counted among the starting kernels from now on
        try:
            return str(await super().start_kernel(kernel_id=kernel_id, **kwargs))
        finally:
            self._starting.discard(kernel_id)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """Cull as jupyter_server does (no page connected, idle for ``cull_idle_timeout``),
        and also a kernel whose page has been connected but idle for ``cull_connected_timeout``."""
        kernel = self._kernels.get(kernel_id)
        connected = self._kernel_connections.get(kernel_id, 0) > 0
        if (
            kernel is not None
            and connected
            and self.cull_connected_timeout > 0
            and hasattr(kernel, "last_activity")
            and getattr(kernel, "execution_state", None) != "busy"
        ):
            idle = utcnow() - kernel.last_activity
            if idle > timedelta(seconds=self.cull_connected_timeout):
                self.log.warning(
                    "Culling kernel %s: its page has been open with no activity for %d s",
                    kernel_id, idle.total_seconds(),
                )  # fmt: skip
                await ensure_async(self.shutdown_kernel(kernel_id))
                return
        await ensure_async(super().cull_kernel_if_idle(kernel_id))


#: Folder of the dashboard's own pages (Jinja2 templates, autoescaped), a package resource.
# planning.settings is light (no pandas): the dashboard's kernels import the library, this
# server process does not.
PAGE_TEMPLATES = settings.package_path("templates", "dashboard")


@functools.cache
def _page_templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGE_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def busy_page(*, base_url: str = "/", retry_after: int = RETRY_AFTER_S) -> str:
    """The HTML of the page served instead of the dashboard when every place is taken."""
    return (
        _page_templates()
        .get_template("busy.html.j2")
        .render(base_url=base_url, retry_after=int(retry_after))
    )


class OutputFreeNotary(NotebookNotary):
    """Jupyter's notebook notary, treating a notebook with no outputs as trusted.

    Trust in Jupyter is about outputs (HTML and JavaScript a notebook carries, shown only
    when its signature is known on this machine). The dashboard notebook ships with outputs
    stripped, so there is nothing to trust, yet its signature can never be in a new user's
    store and Voila would log "Notebook sufficiency.ipynb is not trusted" on every page.
    A notebook with any output is checked as usual.
    """

    def check_signature(self, nb: Any) -> bool:
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
        if not any(cell.get("outputs") for cell in cells):
            return True
        return bool(super().check_signature(nb))


@functools.cache
def planning_voila() -> Any:
    """Voila's application with ``BoundedVoilaHandler`` serving the page (the busy page beyond
    ``PlanningKernelManager.max_kernels``) and :data:`SECURITY_HEADERS` on every response.

    Built on first use: importing ``voila.app`` takes about 1.5 s, which only the server needs.
    """
    import tornado.web
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class BoundedVoilaHandler(TornadoVoilaHandler):
        """Voila's page handler, refusing a page (503, busy page) when every place is taken."""

        @tornado.web.authenticated
        async def get(self, path: str | None = None) -> None:
            manager = self.kernel_manager
            if path or not isinstance(manager, PlanningKernelManager):
                # In single-notebook mode any other path is a redirect, with no kernel.
                await super().get(path=path)
                return
            admission = manager.admit()
            if admission is None:
                self.log.warning(
                    "Dashboard busy: pages hold %d kernels (limit %d); sent the busy page",
                    manager.page_kernels(), manager.max_kernels,
                )  # fmt: skip
                self.set_status(503)
                self.set_header("Retry-After", str(RETRY_AFTER_S))
                self.set_header("Content-Type", "text/html; charset=UTF-8")
                self.set_header("Cache-Control", "no-store")
                self.finish(busy_page(base_url=self.base_url))
                return
            token = _ADMISSION.set(admission)
            try:
                async for html in self.get_generator(path=path):
                    # The first part of the page is sent once its kernel runs: counted by now.
                    manager.settle(admission)
                    self.write(html)
                    self.flush()
            finally:
                manager.settle(admission)
                _ADMISSION.reset(token)

    class SecurityHeaders(tornado.web.OutputTransform):
        """Adds :data:`SECURITY_HEADERS` to every response, static files and error pages
        included (jupyter_server's ``headers`` setting reaches only its own handlers)."""

        def transform_first_chunk(
            self, status_code: int, headers: Any, chunk: bytes, finishing: bool
        ) -> tuple[int, Any, bytes]:
            for name, value in SECURITY_HEADERS.items():
                if name not in headers:
                    headers[name] = value
            return status_code, headers, chunk

    class PlanningVoila(Voila):
        """Voila, serving the dashboard page with ``BoundedVoilaHandler``."""

        def init_settings(self) -> dict[str, Any]:
            settings: dict[str, Any] = super().init_settings()
            # The shipped notebook has no outputs: nothing in it to trust or distrust, so no
            # "Notebook ... is not trusted" warning in the log (see OutputFreeNotary).
            self.contents_manager.notary = OutputFreeNotary(parent=self.contents_manager)
            # Voila passes these settings to tornado.web.Application, whose output transforms
            # they set (tornado 6 has none by default; gzip is off in Voila).
            settings["transforms"] = [*settings.get("transforms", ()), SecurityHeaders]
            return settings

        def init_handlers(self) -> list[Any]:
            return [
                (spec[0], BoundedVoilaHandler, *spec[2:])
                if spec[1] is TornadoVoilaHandler
                else spec
                for spec in super().init_handlers()
            ]

    return PlanningVoila


def main(argv: Sequence[str] | None = None) -> None:
    """Run the dashboard server: ``python -m planning.apps.dashboard.server NOTEBOOK [Voila options]``."""
    planning_voila().launch_instance(argv)


def dashboard_notebook() -> Path:
    """The dashboard notebook Voila serves, shipped in the package (``planning/dashboards/``,
    a folder holding only it: Voila's root folder)."""
    return settings.package_path("dashboards", DASHBOARD_NOTEBOOK)


def voila_command(
    notebook: str | Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    base_url: str = "/",
    max_kernels: int = DEFAULT_MAX_KERNELS,
    cull_idle_timeout: int = DEFAULT_CULL_IDLE_TIMEOUT,
    cull_interval: int = DEFAULT_CULL_INTERVAL,
    cull_connected_timeout: int = DEFAULT_CULL_CONNECTED_TIMEOUT,
    preheat: int = 0,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command that serves the dashboard with Voila, locked down (see module docstring).

    Parameters
    ----------
    notebook : path, optional
        Default :func:`dashboard_notebook`.
    port, ip : where to listen (127.0.0.1: put a reverse proxy in front for others).
    base_url : str
        The path prefix the reverse proxy serves the dashboard under, e.g. ``/dashboard/``.
    max_kernels : int
        Pages served at once, each with its own kernel; beyond it the busy page (HTTP 503).
        The pre-heated pool is extra: at most ``max_kernels + preheat`` kernels run.
    cull_idle_timeout, cull_interval : int
        Seconds: a kernel idle (no message) for longer than the timeout, with no browser
        connected, is shut down; checked every interval.
    cull_connected_timeout : int
        Seconds: a kernel idle this long is shut down even with its page open (0: never).
    preheat : int
        Kernels kept ready with the dashboard already built (Voila's pre-heated kernel pool),
        so a page opens in about a second instead of several; each holds memory while it waits.
    extra : sequence of str
        More Voila command-line options.
    """
    notebook = Path(notebook) if notebook is not None else dashboard_notebook()
    if not base_url.startswith("/"):
        base_url = "/" + base_url
    if not base_url.endswith("/"):
        base_url += "/"
    if max_kernels < 1:
        raise ValueError(f"max_kernels must be at least 1, not {max_kernels}")
    return [
        sys.executable,
        "-m",
        __name__,  # Voila with the bounded page handler and security headers (main())
        str(notebook),
        "--no-browser",
        f"--Voila.ip={ip}",
        f"--Voila.port={int(port)}",
        "--Voila.port_retries=0",
        f"--Voila.base_url={base_url}",
        f"--Voila.root_dir={notebook.parent}",
        f"--Voila.kernel_websocket_connection_class={__name__}.WidgetOnlyConnection",
        # Our template (templates/jupyter/voila/templates/planning): no stylesheet from a CDN.
        "--VoilaConfiguration.template=planning",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        # Serve no file from the notebook's folder (Voila's default allows images).
        "--VoilaConfiguration.file_denylist=.*",
        # Load only the widget front ends the dashboard uses (not every installed extension).
        *(f"--VoilaConfiguration.extension_allowlist={name}" for name in FRONT_ENDS),
        # Kernels talk to the server over Unix sockets in a private folder, not TCP ports.
        "--KernelManager.transport=ipc",
        "--MappingKernelManager.allow_tracebacks=False",
        f"--VoilaConfiguration.multi_kernel_manager_class={__name__}.PlanningKernelManager",
        f"--PlanningKernelManager.max_kernels={int(max_kernels)}",
        f"--PlanningKernelManager.cull_connected_timeout={int(cull_connected_timeout)}",
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        # Kernels with a page connected follow cull_connected_timeout above, not this timeout.
        "--MappingKernelManager.cull_connected=False",
        *(
            [
                "--VoilaConfiguration.preheat_kernel=True",
                f"--VoilaConfiguration.default_pool_size={int(preheat)}",
            ]
            if preheat > 0
            else []
        ),
        *extra,
    ]


@dataclass
class RunningServer:
    """A Voila server started by :func:`launch`; ``stop()`` ends it (and its kernels)."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # Voila shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


#: Jupyter data folder holding the dashboard's Voila template (``voila/templates/planning``).
TEMPLATE_ROOT = settings.package_path("templates", "jupyter")


def voila_environment(network: str | Path | None = None) -> dict[str, str]:
    """The environment for the Voila process: ours, with the template folder on JUPYTER_PATH,
    and the street network (``--network``) for the kernels when one is given."""
    environment = dict(os.environ)
    if network is not None:
        from planning.apps.dashboard.view import NETWORK_VARIABLE

        path = Path(network).expanduser().resolve()
        if not path.is_file():
            from planning._errors import ValidationError

            raise ValidationError(
                f"--network {network}: no such file; give an OpenStreetMap extract (.osm.pbf) or "
                "a GraphML file"
            )
        environment[NETWORK_VARIABLE] = str(path)
    existing = environment.get("JUPYTER_PATH")
    environment["JUPYTER_PATH"] = (
        f"{TEMPLATE_ROOT}{os.pathsep}{existing}" if existing else str(TEMPLATE_ROOT)
    )
    return environment


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(
    log: str | Path, *, port: int | None = None, timeout: float = 90, **options: Any
) -> RunningServer:
    """Start the locked-down Voila server in the background and wait until it listens.

    For tests and benchmarks: ``port`` defaults to a free one; output goes to ``log``; other
    options as for :func:`voila_command`. Raises ``RuntimeError`` (with the log) if it exits
    or does not listen within ``timeout`` seconds.
    """
    port = port or free_port()
    network = options.pop("network", None)
    command = voila_command(port=port, **options)
    log = Path(log)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=Path(command[3]).parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=voila_environment(network),
        )
    server = RunningServer(f"http://127.0.0.1:{port}/", port, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Voila exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"Voila did not listen within {timeout:g} s:\n{log.read_text()}")


def serve(**options: Any) -> int:
    """Run the Voila server (see :func:`voila_command`) until stopped.

    On POSIX this process becomes the Voila server (``os.execv``), so a service manager's
    SIGTERM reaches Voila itself, which shuts its kernels down; elsewhere Voila runs as a child
    and its exit status is returned.
    """
    network = options.pop("network", None)
    environment = voila_environment(network)
    command = voila_command(**options)
    os.chdir(Path(command[3]).parent)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(command[0], command, environment)
    try:
        return subprocess.call(command, env=environment)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    # Run the package's copy of this module, so the classes named in the configuration
    # (planning.apps.dashboard.server.WidgetOnlyConnection, ...) are the ones serving.
    from planning.apps.dashboard.server import main as _main

    _main()
