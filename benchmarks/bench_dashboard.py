"""Time the councillors' dashboard in real headless Chromium against a real Voila server.

Not a test: prints figures to quote. For each server mode (a kernel started per page, and one
pre-heated kernel kept ready) it measures

* time to first render with the server start included (from launching Voila until the cards
  show on the first page) and excluded (page open until the cards show, on a running server;
  with a pre-heated kernel, once it has had time to build the dashboard);
* the round trip of an interaction: click a centre's checkbox (or its marker on the map) until
  a card's text changes.

Targets (issue 13, on a machine with other work running): first render under 4 s, an
interaction's round trip under 300 ms median. Printed beside the figures; not asserted.

Every request that is not to 127.0.0.1 is blocked, as in the tests.

    .venv/bin/python benchmarks/bench_dashboard.py [--loads 3] [--clicks 10] [--modes cold,preheat]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from planning.apps.dashboard.server import launch

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CARD = ".planning-card-share-within-reach .planning-card-value"
CHECKBOX = ".planning-centre-cc03 input[type=checkbox]"
MARKER = ".leaflet-marker-icon:has(.planning-marker-cc03)"
#: Seconds to let a pre-heated kernel build the dashboard before the first visit.
WARM_UP_S = 15


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    context.route(
        "**/*",
        lambda route: route.continue_()
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
        else route.abort(),
    )
    page = context.new_page()
    page.set_default_timeout(180_000)
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(CARD)
    return context, page, time.perf_counter() - started


def clicks(page, n: int, target: str) -> list[float]:
    """Round trips (s) of switching CC03 off and on by clicking ``target``."""
    trips = []
    for _ in range(n):
        before = page.inner_text(CARD)
        started = time.perf_counter()
        page.click(target)
        page.wait_for_function(
            "([sel, old]) => document.querySelector(sel).textContent.trim() !== old",
            arg=[CARD, before.strip()],
        )
        trips.append(time.perf_counter() - started)
        page.wait_for_timeout(150)  # let the rest of the update land before the next click
    return trips


def summary(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    if not values:
        return "n/a"
    v = [x * scale for x in values]
    return (
        f"median {statistics.median(v):.2f} {unit} (min {min(v):.2f}, max {max(v):.2f}, "
        f"n={len(v)})"
    )


def run_mode(browser, preheat: int, loads: int, n_clicks: int, folder: Path) -> None:
    label = "pre-heated kernel" if preheat else "kernel started per page"
    started = time.perf_counter()
    server = launch(folder / f"voila-{preheat}.log", preheat=preheat)
    listening = time.perf_counter() - started
    try:
        if preheat:
            # Voila logs "filled" once the pool kernel has started; the notebook then runs in
            # it in the background. Give it time, as a server started before office hours has.
            while "is filled with" not in server.log.read_text():
                time.sleep(0.2)
            time.sleep(WARM_UP_S)
        context, page, first = open_page(browser, server.url)
        included = time.perf_counter() - started
        trips = clicks(page, n_clicks, CHECKBOX)
        page.keyboard.press("Escape")
        marker_trips = clicks(page, n_clicks, MARKER)
        context.close()
        warm = []
        for _ in range(loads):
            if preheat:
                time.sleep(WARM_UP_S)  # let the pool refill, as between two councillors' visits
            context, _, seconds = open_page(browser, server.url)
            warm.append(seconds)
            context.close()
    finally:
        server.stop()
    print(f"\n== Voila, {label} ==")
    print(f"server listening after           {listening:.2f} s")
    if not preheat:
        print(f"first render, server start incl. {included:.2f} s")
    print(f"first render, server start excl. {first:.2f} s   (target under 4 s)")
    print(f"later page loads (excl.)         {summary(warm)}   (target under 4 s)")
    print(f"checkbox click -> card changes   {summary(trips, 'ms', 1000)}   (target median < 300 ms)")
    print(f"marker click -> card changes     {summary(marker_trips, 'ms', 1000)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3, help="page loads on a running server")
    parser.add_argument("--clicks", type=int, default=10, help="checkbox clicks to time")
    parser.add_argument("--modes", default="cold,preheat", help="cold, preheat or both")
    args = parser.parse_args()
    print("load average before: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for mode in args.modes.split(","):
                run_mode(browser, 1 if mode == "preheat" else 0, args.loads, args.clicks, Path(folder))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
