"""Load the councillors' dashboard page N times and follow the server's memory until it returns.

Not a test: prints figures to quote. A bounded load test of the real server (``planning.apps.dashboard.server``):

* on 127.0.0.1 only, a fixed number of page loads (plain HTTP GETs, as an anonymous visitor or a
  crawler makes them: each page starts a kernel that builds the dashboard), ``--concurrency`` at
  a time; it stops by itself (the server is stopped at the end, or after ``--deadline`` seconds);
* memory is the resident set size (RSS) summed over the server's process tree (the Voila server
  and its kernels), read with psutil (or /proc without it), sampled every 0.25 s: before the
  loads, the peak during them, just after, and after the kernels have been culled. Summed RSS
  counts the libraries the kernels share once per kernel; the PSS column (psutil only) shares
  them out, so it is what the tree really holds;
* short cull settings (``--cull-idle-timeout 10 --cull-interval 2``) so the return is seen in
  seconds; the server's defaults are 120 s and 30 s;
* the memory per viewer: the RSS of one kernel with the dashboard built (median over the
  kernels), and its USS (the memory only that kernel holds; what one more viewer adds).

    .venv/bin/python benchmarks/bench_dashboard_load.py [--loads 20] [--concurrency 2]
        [--max-kernels 10] [--preheat 0] [--cull-idle-timeout 10] [--cull-interval 2]

``--max-kernels 1000 --cull-idle-timeout 600`` approximates the server before the limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planning.apps.dashboard.server import launch

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is a dev dependency
    psutil = None

MB = 2**20
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------- process tree memory


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    return children


def _proc_rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _proc_is_kernel(pid: int) -> bool:
    try:
        return b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def tree_pss(pid: int) -> int | None:
    """Proportional set size of the whole process tree (bytes; psutil on Linux only)."""
    if psutil is None:
        return None
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except (psutil.Error, AttributeError):
            continue
    return total


def tree(pid: int) -> tuple[int, list[tuple[int, int, int | None]]]:
    """RSS of the whole process tree (bytes), and (pid, RSS, USS or None) of each kernel."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0, []
        total, kernels = 0, []
        for process in processes:
            try:
                rss = process.memory_info().rss
                total += rss
                if process is not root and "ipykernel" in " ".join(process.cmdline()):
                    kernels.append((process.pid, rss, process.memory_full_info().uss))
            except psutil.Error:  # ended while we looked
                continue
        return total, kernels
    children, stack, pids = _proc_children(), [pid], []
    while stack:
        current = stack.pop()
        pids.append(current)
        stack.extend(children.get(current, []))
    kernels = [(p, _proc_rss(p), None) for p in pids[1:] if _proc_is_kernel(p)]
    return sum(_proc_rss(p) for p in pids), kernels


class Sampler:
    """Samples the tree every ``interval`` seconds in a thread, keeping the peak."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss, self.peak_kernels = 0, 0
        self.kernel_rss: dict[int, tuple[int, int | None]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, kernels = tree(self.pid)
            self.peak_rss = max(self.peak_rss, total)
            self.peak_kernels = max(self.peak_kernels, len(kernels))
            for kernel, rss, uss in kernels:  # the last reading of each kernel
                self.kernel_rss[kernel] = (rss, uss)
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# ---------------------------------------------------------------------- the load


def load_page(url: str) -> tuple[int, float]:
    """Status and seconds of one page load (the body read to the end, as a browser would)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        with exc:
            exc.read()
            status = exc.code
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=20, help="page loads (default 20)")
    parser.add_argument("--concurrency", type=int, default=2, help="loads at a time (default 2)")
    parser.add_argument("--max-kernels", type=int, default=10, help="the server's limit")
    parser.add_argument("--preheat", type=int, default=0, help="pre-heated kernels (default 0)")
    parser.add_argument("--cull-idle-timeout", type=int, default=10)
    parser.add_argument("--cull-interval", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=900,
                        help="seconds after which the benchmark stops whatever happens")
    args = parser.parse_args()
    if not 1 <= args.loads <= 200 or not 1 <= args.concurrency <= 8:
        parser.error("--loads must be 1-200 and --concurrency 1-8 (a bounded test)")
    stop_at = time.monotonic() + args.deadline

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-load-") as folder:
        server = launch(
            Path(folder) / "voila.log", ip="127.0.0.1", max_kernels=args.max_kernels,
            preheat=args.preheat, cull_idle_timeout=args.cull_idle_timeout,
            cull_interval=args.cull_interval,
        )  # fmt: skip
        assert server.url.startswith("http://127.0.0.1:")
        pid = server.process.pid
        try:
            settle_s = 20 if args.preheat else 3  # let the pool build its dashboards
            time.sleep(settle_s)
            before, pool = tree(pid)
            before_pss = tree_pss(pid)
            with Sampler(pid) as sampler, ThreadPoolExecutor(args.concurrency) as workers:
                results = list(workers.map(load_page, [server.url] * args.loads))
            after_loads, kernels_after_loads = tree(pid)
            after_loads_pss = tree_pss(pid)
            loads_done = time.monotonic()
            resting = len(pool)  # the pre-heated pool stays
            while len(tree(pid)[1]) > resting and time.monotonic() < stop_at:
                time.sleep(0.5)
            culled_s = time.monotonic() - loads_done
            time.sleep(1)
            after_cull, kernels_left = tree(pid)
            after_cull_pss = tree_pss(pid)
        finally:
            server.stop()

    served = [seconds for status, seconds in results if status == 200]
    busy = sum(status == 503 for status, _ in results)
    other = len(results) - len(served) - busy
    rss = [r for r, _ in sampler.kernel_rss.values()]
    uss = [u for _, u in sampler.kernel_rss.values() if u is not None]
    print(
        f"Dashboard load: {args.loads} page loads, {args.concurrency} at a time, on 127.0.0.1; "
        f"max {args.max_kernels} kernels, pre-heated {args.preheat}, cull after "
        f"{args.cull_idle_timeout} s idle (checked every {args.cull_interval} s); "
        f"memory = RSS summed over the server's process tree ({'psutil' if psutil else '/proc'})"
    )
    def pss(value: int | None) -> str:
        return f"{value / MB:>10.0f}" if value is not None else f"{'-':>10}"

    print(f"{'phase':<16}{'kernels':>8}{'RSS (MB)':>10}{'PSS (MB)':>10}")
    print(f"{'before':<16}{len(pool):>8}{before / MB:>10.0f}{pss(before_pss)}")
    print(f"{'peak during':<16}{sampler.peak_kernels:>8}{sampler.peak_rss / MB:>10.0f}{pss(None)}")
    print(f"{'after the loads':<16}{len(kernels_after_loads):>8}{after_loads / MB:>10.0f}"
          f"{pss(after_loads_pss)}")  # fmt: skip
    print(f"{'after culling':<16}{len(kernels_left):>8}{after_cull / MB:>10.0f}"
          f"{pss(after_cull_pss)}   ({culled_s:.1f} s after the last load)")  # fmt: skip
    print(f"memory returned: {(after_loads - after_cull) / MB:.0f} MB of the "
          f"{(after_loads - before) / MB:.0f} MB the loads added; "
          f"{(after_cull - before) / MB:+.0f} MB against before")  # fmt: skip
    print(f"pages: {len(served)} served (200), {busy} busy (503), {other} other; "
          + (f"page load median {statistics.median(served):.1f} s, slowest {max(served):.1f} s"
             if served else "none served"))  # fmt: skip
    if rss:
        print(f"memory per viewer (one kernel, dashboard built, {len(rss)} kernels): RSS median "
              f"{statistics.median(rss) / MB:.0f} MB"
              + (f", USS median {statistics.median(uss) / MB:.0f} MB (its own pages)"
                 if uss else ""))  # fmt: skip


if __name__ == "__main__":
    main()
