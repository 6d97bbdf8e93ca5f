"""The dashboard server under load, for real: Voila subprocesses on 127.0.0.1 with small limits
and short cull times, kernels counted as the server's ipykernel child processes.

Each page holds a kernel of its own; these tests check that pages beyond the limit get the busy
page (HTTP 503) and no kernel, that the limit holds under concurrent requests and with the
pre-heated pool, and that kernels of pages that have gone are culled within the short timeout
while a page that is still open keeps its kernel."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from planning.apps.dashboard.server import RETRY_AFTER_S, launch

from conftest import REPO

pytestmark = pytest.mark.slow

psutil = pytest.importorskip("psutil")

#: What a response from the dashboard must never contain.
LEAKS = ("/work", "site-packages", "Traceback", str(REPO))


def kernel_pids(server) -> set[int]:
    """The server's running kernels: its own ipykernel child processes.

    Only direct children: a kernel's own subprocess (it runs ``uname -p`` while importing, through
    ``platform``) carries the kernel's command line between fork and exec, and is not a kernel.
    """
    try:
        children = psutil.Process(server.process.pid).children(recursive=False)
    except psutil.NoSuchProcess:
        return set()
    pids = set()
    for child in children:
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:  # ended while we looked
            continue
    return pids


class KernelCounter:
    """Samples the number of kernels every 50 ms in a thread, keeping the largest seen."""

    def __init__(self, server) -> None:
        self.server, self.most = server, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.most = max(self.most, len(kernel_pids(self.server)))
            self._stop.wait(0.05)

    def __enter__(self) -> KernelCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def get(url: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET (the body read to the end, as a browser would)."""
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8")


def wait_for(condition, seconds: float) -> float:
    """Seconds until ``condition()`` holds; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds:g} s"
        time.sleep(0.2)
    return time.monotonic() - started


def kernel_id(html: str) -> str:
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html)
    assert found, "no kernel id in the page"
    return found.group(1)


def assert_busy_page(status: int, headers: dict[str, str], body: str) -> None:
    assert status == 503
    assert headers["Retry-After"] == str(RETRY_AFTER_S)
    assert headers["Content-Type"].startswith("text/html")
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert "The dashboard is busy" in body and "try again in a minute" in body
    assert "kernelId" not in body
    for leak in LEAKS:
        assert leak not in body


def test_pages_beyond_the_kernel_limit_get_the_busy_page_and_closed_pages_are_culled(tmp_path):
    limit, pages, cull_s = 2, 5, 4
    server = launch(tmp_path / "voila.log", max_kernels=limit, cull_idle_timeout=cull_s,
                    cull_interval=1)  # fmt: skip
    try:
        with KernelCounter(server) as counter:
            # All at once: the limit must hold while the first kernels are still starting.
            with ThreadPoolExecutor(pages) as pool:
                answers = list(pool.map(get, [server.url] * pages))
            statuses = sorted(status for status, _, _ in answers)
            assert statuses == [200] * limit + [503] * (pages - limit)
            for answer in answers:
                if answer[0] == 503:
                    assert_busy_page(*answer)
            # Later pages are refused too while the kernels are held.
            assert_busy_page(*get(server.url))
            # These pages never connected (fetched, not opened in a browser): their kernels are
            # culled after cull_s seconds idle, checked every second.
            gone = wait_for(lambda: not kernel_pids(server), seconds=cull_s + 25)
        assert counter.most == limit
        assert gone < cull_s + 25
        assert "Culling" in server.log.read_text()
        status, _, body = get(server.url)  # a place is free again
        assert status == 200 and kernel_id(body)
    finally:
        server.stop()


def test_the_pre_heated_pool_is_not_a_place(tmp_path):
    server = launch(tmp_path / "voila.log", max_kernels=1, preheat=1)
    try:
        wait_for(lambda: "is filled with 1 kernel" in server.log.read_text(), seconds=120)
        with KernelCounter(server) as counter:
            status, headers, body = get(server.url)  # takes the pool's kernel
            assert status == 200 and kernel_id(body)
            assert headers["X-Frame-Options"] == "SAMEORIGIN"
            # The pool refills (one kernel ready) but the one place is taken.
            wait_for(lambda: server.log.read_text().count("is filled with 1 kernel") == 2, 120)
            assert_busy_page(*get(server.url))
        assert counter.most <= 2  # the page's kernel and the refilled pool
    finally:
        server.stop()


def test_a_page_that_has_gone_is_culled_soon_and_an_open_page_keeps_its_kernel(tmp_path):
    """Two pages connect their websockets; one goes (its websocket closes, with no shutdown
    request: a crashed tab or a lost network). Its kernel is culled after the short timeout,
    while the page still open keeps its kernel until the long connected timeout."""
    websocket = pytest.importorskip("websocket")
    cull_s, connected_s = 3, 15
    server = launch(tmp_path / "voila.log", cull_idle_timeout=cull_s, cull_interval=1,
                    cull_connected_timeout=connected_s)  # fmt: skip

    def open_page():
        status, _, body = get(server.url)
        assert status == 200
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id(body)}/channels"
            f"?session_id={uuid.uuid4().hex}",
            origin=f"http://127.0.0.1:{server.port}",
            timeout=30,
        )
        return ws

    try:
        before_staying = time.monotonic()  # its kernel's last activity is later than this
        staying, going = open_page(), open_page()
        try:
            wait_for(lambda: len(kernel_pids(server)) == 2, seconds=30)
            time.sleep(cull_s + 3)  # connected: neither is culled by the short timeout
            assert len(kernel_pids(server)) == 2
            going.close()
            wait_for(lambda: len(kernel_pids(server)) == 1, seconds=cull_s + 10)
            wait_for(lambda: not kernel_pids(server), seconds=connected_s + 20)
            # The open page's kernel went only after connected_s seconds without activity.
            assert time.monotonic() - before_staying >= connected_s
        finally:
            staying.close()
        log = server.log.read_text()
        assert "with 0 connections due to" in log  # the page that went
        assert "its page has been open with no activity" in log  # the page left open
    finally:
        server.stop()
