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
* **Idle kernels culled** (``MappingKernelManager.cull_idle_timeout`` / ``cull_interval``).
* Widget values are validated in :class:`planning.dashboard.Dashboard`.

Authentication is left to the council's reverse proxy (see README, "Councillors' dashboard").
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from traitlets import List, Unicode

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
            content = self.session.unpack(parts[3]) if header.get("msg_type") == "comm_open" else {}
            return channel, header, content
        msg = deserialize_binary_message(incoming) if isinstance(incoming, bytes) else json.loads(incoming)
        return msg.get("channel"), msg.get("header") or {}, msg.get("content") or {}

    def refusal(self, channel: str | None, header: dict[str, Any], content: dict[str, Any]) -> str | None:
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
            self.write_message(serialize_msg_to_ws_v1(reply, channel, self.session.pack), binary=True)
        else:
            reply["channel"] = channel
            self.write_message(json.dumps(reply, default=json_default))


def dashboard_notebook() -> Path:
    """``dashboards/sufficiency.ipynb`` of the repository this package runs from."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "dashboards" / DASHBOARD_NOTEBOOK
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"dashboards/{DASHBOARD_NOTEBOOK} not found; run from a clone of the repository"
    )


def voila_command(
    notebook: str | Path | None = None,
    *,
    port: int = DEFAULT_PORT,
    ip: str = "127.0.0.1",
    base_url: str = "/",
    cull_idle_timeout: int = 600,
    cull_interval: int = 60,
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
    cull_idle_timeout, cull_interval : int
        Seconds: a kernel idle (no message) for longer than the timeout, with no browser
        connected, is shut down; checked every interval.
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
    return [
        sys.executable,
        "-m",
        "voila",
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
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
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
TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates" / "jupyter"


def voila_environment() -> dict[str, str]:
    """The environment for the Voila process: ours, with the template folder on JUPYTER_PATH."""
    environment = dict(os.environ)
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


def launch(log: str | Path, *, port: int | None = None, timeout: float = 90, **options: Any) -> RunningServer:
    """Start the locked-down Voila server in the background and wait until it listens.

    For tests and benchmarks: ``port`` defaults to a free one; output goes to ``log``; other
    options as for :func:`voila_command`. Raises ``RuntimeError`` (with the log) if it exits
    or does not listen within ``timeout`` seconds.
    """
    port = port or free_port()
    command = voila_command(port=port, **options)
    log = Path(log)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=Path(command[3]).parent, stdout=out, stderr=subprocess.STDOUT,
            env=voila_environment(),
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
    command = voila_command(**options)
    os.chdir(Path(command[3]).parent)
    environment = voila_environment()
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(command[0], command, environment)
    try:
        return subprocess.call(command, env=environment)
    except KeyboardInterrupt:
        return 0
