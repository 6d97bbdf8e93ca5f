"""The dashboard for real: a Voila server (subprocess on 127.0.0.1) driven by headless Chromium
through Playwright, with every request that is not to localhost blocked (so the page must render
from bundled assets), plus raw websocket and HTTP probes of the lock-down."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from planning.apps.dashboard.server import launch
from planning.apps.dashboard.model import Dashboard
from planning.inputs.centres import read_centres
from planning.analysis.scenarios import Scenario

from conftest import REPO

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Hosts the page asks for when online; offline they fail and the page must still work.
# The only outside request the page makes is for background tiles (aborted here, before it
# leaves the machine); the Voila template's CDN stylesheets are removed by our template.
ONLINE_EXTRAS = ("tile.openstreetmap.org",)
PAGE_TIMEOUT_MS = 120_000


def status(url: str, *, method: str = "GET") -> int:
    """The final HTTP status of a request (redirects followed)."""
    request = urllib.request.Request(url, method=method, data=b"{}" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=180) as response:
        return response.read().decode("utf-8")


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    # Room for every page and raw fetch these tests make on one server (a kernel each, held
    # until culled); the kernel limit itself is tested in test_dashboard_load.py.
    server = launch(tmp_path_factory.mktemp("voila") / "voila.log", max_kernels=24)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1900}, accept_downloads=True)
    blocked: list[str] = []

    def only_localhost(route):
        url = route.request.url
        if re.match(r"^(https?|wss?)://(127\.0\.0\.1|localhost)[:/]", url) or url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_localhost)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.blocked = blocked
    yield page
    context.close()


@pytest.fixture(scope="module")
def derby_board_parts(derby_areas, derby_centres_file):
    return derby_areas, read_centres(derby_centres_file, areas=derby_areas)


def board_engine(centres):
    """The engine behind the page: Derby with its neighbours (no authority is an island)."""
    return Dashboard.for_authority("Derby", centres=centres).engine


def card_text(page, key: str) -> str:
    return page.inner_text(f".planning-card-{key} .planning-card-value").strip()


def expected_cards(figures) -> dict[str, str]:
    return {
        "under5": f"{figures['under5']:,.0f}",
        "under5-income-deprived": f"{figures['under5_income_deprived']:,.0f}",
        "share-within-reach": f"{100 * figures['share_within_reach']:.1f}%",
        "share-deprived-within-reach": f"{100 * figures['share_deprived_within_reach']:.1f}%",
        "verdict": figures["rag"],
    }


def wait_for_card(page, key: str, text: str) -> None:
    page.wait_for_function(
        "([sel, want]) => { const e = document.querySelector(sel); "
        "return e && e.textContent.trim() === want; }",
        arg=[f".planning-card-{key} .planning-card-value", text],
    )


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Where the tests save screenshots for review: pytest's temporary folder, never reports/."""
    return tmp_path_factory.mktemp("screenshots")


def assert_map_fits_the_authority(page) -> None:
    """Every area of the authority is inside the map, and the authority fills most of it one
    way (the zoom is the largest that fits, in quarter steps)."""
    for _ in range(20):  # let Leaflet finish drawing at the chosen zoom (slow on a busy machine)
        page.wait_for_timeout(500)
        box = _area_box(page)
        left, top, right, bottom = box["map"]
        filled = max(
            (box["right"] - box["left"]) / (right - left),
            (box["bottom"] - box["top"]) / (bottom - top),
        )
        if box["n"] and filled > 0.6:
            break
    left, top, right, bottom = box["map"]
    assert box["n"] > 0
    assert left <= box["left"] and box["right"] <= right, box
    assert top <= box["top"] and box["bottom"] <= bottom, box
    assert filled > 0.6, box


def _area_box(page) -> dict:
    return page.evaluate(
        """() => {
          const map = document.querySelector('.planning-map').getBoundingClientRect();
          const areas = Array.from(document.querySelectorAll(
            '.planning-map path.leaflet-interactive[stroke="#777777"]'));
          const rects = areas.map(p => p.getBoundingClientRect());
          return {map: [map.left, map.top, map.right, map.bottom], n: rects.length,
                  left: Math.min(...rects.map(r => r.left)), top: Math.min(...rects.map(r => r.top)),
                  right: Math.max(...rects.map(r => r.right)),
                  bottom: Math.max(...rects.map(r => r.bottom))};
        }"""
    )


def test_councillor_selects_a_locality_and_switches_a_centre_off(
    voila, page, derby_board_parts, screenshots
):
    areas, centres = derby_board_parts
    engine = board_engine(centres)
    baseline = engine.baseline
    after = engine.evaluate(Scenario().close("CC03"))

    page.goto(voila.url)
    page.wait_for_selector(".planning-card-verdict .planning-card-value")
    for key, text in expected_cards(baseline.figures).items():
        wait_for_card(page, key, text)
    assert "illustrative" in page.inner_text(".planning-note-illustrative")
    assert_map_fits_the_authority(page)
    # The map drew its layers (need polygons, rings, centres) with no network.
    assert page.locator(".planning-map path.leaflet-interactive").count() > len(areas)

    scope = ".planning-card-under5 .planning-card-scope"
    assert page.text_content(scope) == "Whole authority: Derby"
    page.select_option(".planning-locality select", "East")
    for key, text in expected_cards(baseline.localities.loc["East"]).items():
        wait_for_card(page, key, text)
    assert page.text_content(scope) == "Locality: East"

    page.click(".planning-centre-cc03 input[type=checkbox]")
    want = expected_cards(after.localities.loc["East"])
    wait_for_card(page, "share-within-reach", want["share-within-reach"])
    for key, text in want.items():
        wait_for_card(page, key, text)
    assert {key: card_text(page, key) for key in want} == want
    row = page.inner_text('.planning-table tr[data-locality="East"]')
    assert f"{100 * after.localities.loc['East', 'share_within_reach']:.1f}%" in row
    assert "Switched off: Illustrative site 3" in page.inner_text(".planning-summary")

    # The CSV download is the table of the change being tried.
    with page.expect_download() as download:
        page.click(".planning-download-link")
    board = Dashboard.for_authority("Derby", centres=centres)
    board.set_open("CC03", False)
    assert Path(download.value.path()).read_text("utf-8") == board.csv()
    assert download.value.suggested_filename == "derby_sufficiency_close-CC03.csv"

    shot = screenshots / "dashboard-derby.png"
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.evaluate("document.querySelector('.planning-dashboard').scrollIntoView()")
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000

    # Offline: only background tiles were wanted from outside.
    hosts = {re.sub(r"^\w+://([^/:]+).*$", r"\1", url) for url in page.blocked}
    assert hosts <= set(ONLINE_EXTRAS), hosts
    assert not [url for url in page.blocked if url.endswith(".js")]


def add_site(page, postcode: str) -> str:
    """Type a postcode, press Add site, and return the message the page then shows."""
    before = page.inner_text(".planning-message")
    page.fill(".planning-postcode input", postcode)
    page.click(".planning-add-site button, button.planning-add-site")
    page.wait_for_function(
        "old => { const e = document.querySelector('.planning-message');"
        " return e && e.innerText.trim() && e.innerText !== old; }",
        arg=before,
    )
    return page.inner_text(".planning-message").strip()


def test_postcode_messages_are_written_for_people(voila, page):
    page.goto(voila.url)
    page.wait_for_selector(".planning-centre-cc01 input")
    said = add_site(page, "HELLO")
    assert said == (
        "We couldn't find HELLO. Type a full postcode such as DE1 2FS, or click the map."
    )
    assert page.locator(".planning-message [role=alert]").count() == 1
    said = add_site(page, "de99 9qq")
    assert said.startswith("We couldn't find DE99 9QQ in the ONS Postcode Directory")
    assert page.locator(".planning-centre-toggle").count() == 10
    # Found: echoed as typed, normalised, in the message and the box.
    said = add_site(page, "de12fs")
    assert said == "Added New site 1 (at DE1 2FS)."
    assert page.input_value(".planning-postcode input") == "DE1 2FS"
    assert page.locator(".planning-centre-toggle").count() == 11
    # The same place again: added, with a warning.
    said = add_site(page, "DE1 2FS")
    assert said.startswith("Added New site 2 (at DE1 2FS).")
    warning = page.inner_text(".planning-message-warning")
    assert "same place as New site 1 (at DE1 2FS)" in warning
    # Click-to-add says what to do next.
    page.click(".planning-click-mode")
    page.wait_for_function(
        "() => document.querySelector('.planning-message').innerText.includes('Now click the map')"
    )


def test_marker_popup_hover_and_click_toggle_with_the_locality_move(
    voila, page, derby_board_parts
):
    areas, centres = derby_board_parts
    engine = board_engine(centres)
    before, after = engine.baseline, engine.evaluate(Scenario().close("CC03"))
    page.goto(voila.url)
    page.wait_for_selector(".planning-marker-cc03")
    marker = page.locator(".leaflet-marker-icon:has(.planning-marker-cc03)")
    # The name on hover (the marker's tooltip) for every centre.
    for centre_id, name in centres["name"].items():
        icon = page.locator(f".leaflet-marker-icon:has(.planning-marker-{centre_id.lower()})")
        assert icon.get_attribute("title") == name
    assert page.locator(".planning-moves").inner_text().strip() == ""

    # Hovering an area: name, under-5s, distance and the centre that serves it.
    box = page.locator(".planning-map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.wait_for_function(
        "() => document.querySelector('.planning-area-info').innerText.includes('Served by')"
    )
    info = page.inner_text(".planning-area-info")
    shown = re.search(r"\((E01\d{6})\)", info)
    assert shown, info
    code = shown.group(1)
    served = before.areas.loc[code]
    assert f"Under-5s: {areas.loc[code, 'under5']:,.0f}" in info
    assert f"{served['distance_m'] / 1000:.1f} km" in info
    assert f"Served by: {centres.loc[served['centre_id'], 'name']}" in info

    # A click on the marker opens its popup and switches the centre off, as the checkbox does.
    marker.click()
    page.wait_for_selector(".leaflet-popup-content")
    page.wait_for_function(
        "() => !document.querySelector('.planning-centre-cc03 input').checked"
    )
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup-content').innerText.includes('Switched off')"
    )
    popup = page.inner_text(".leaflet-popup-content")
    assert centres.loc["CC03", "name"] in popup
    assert f"{centres.loc['CC03', 'locality']} locality" in popup
    assert {"hub": "Family hub", "branch": "Branch"}[centres.loc["CC03", "kind"]] in popup
    wait_for_card(page, "share-within-reach", expected_cards(after.figures)["share-within-reach"])

    # The page says which under-5s changed locality, from the engine's assignments.
    old = before.areas["centre_id"].map(before.centres["locality"])
    new = after.areas["centre_id"].map(after.centres["locality"])
    moved = old != new
    expected = sorted(
        ((group.sum(), source, target) for (source, target), group
         in areas["under5"][moved].groupby([old[moved], new[moved]])),
        reverse=True,
    )  # fmt: skip
    assert expected
    moves = page.inner_text(".planning-moves")
    for count, source, target in expected:
        assert (
            f"{source} lost {count:,.0f} under-5s to {target}: their nearest centre is now in "
            f"{target}"
        ) in moves

    # Another click switches it back on; the move message goes.
    page.locator(".leaflet-popup-close-button").click()
    marker.click()
    page.wait_for_function("() => document.querySelector('.planning-centre-cc03 input').checked")
    wait_for_card(page, "share-within-reach", expected_cards(before.figures)["share-within-reach"])
    page.wait_for_function(
        "() => document.querySelector('.planning-moves').innerText.trim() === ''"
    )


def test_csv_download_records_the_change_and_the_caveat(voila, page, derby_board_parts):
    areas, centres = derby_board_parts
    after = board_engine(centres).evaluate(Scenario().close("CC03"))
    page.goto(voila.url)
    page.wait_for_selector(".planning-centre-cc03 input")
    with page.expect_download() as current:
        page.click(".planning-download-link")
    assert current.value.suggested_filename == "derby_sufficiency_current.csv"
    page.click(".planning-centre-cc03 input[type=checkbox]")
    wait_for_card(page, "share-within-reach", expected_cards(after.figures)["share-within-reach"])
    with page.expect_download() as download:
        page.click(".planning-download-link")
    assert download.value.suggested_filename == "derby_sufficiency_close-CC03.csv"
    text = Path(download.value.path()).read_text("utf-8")
    comments = [line for line in text.splitlines() if line.startswith("# ")]
    assert f"# Change being tried: Switched off: {centres.loc['CC03', 'name']}" in comments
    assert any("not for the current network" in line for line in comments)
    assert any("illustrative sites, not the council's real centres" in line for line in comments)
    import csv
    import io

    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    rows = {row["locality"]: row for row in csv.DictReader(io.StringIO(body))}
    for locality, figures in after.localities.iterrows():
        row = rows[locality]
        assert row["percent_within_reach"] == f"{100 * figures['share_within_reach']:.1f}"
        assert row["under5"] == f"{figures['under5']:.0f}"
        assert row["under5_per_centre"] == f"{figures['under5_per_centre']:.0f}"
    whole = rows["Whole authority"]
    assert whole["percent_within_reach"] == f"{100 * after.figures['share_within_reach']:.1f}"


def test_thurrock_opens_on_its_illustrative_sites(voila, page, screenshots):
    from planning import load_areas
    from planning.inputs.illustrative import resolve_centres

    areas = load_areas("E06000034")
    centres = read_centres(resolve_centres("E06000034"), areas=areas)
    baseline = Dashboard.for_authority("Thurrock", centres=centres).engine.baseline
    page.goto(voila.url)
    page.wait_for_selector(".planning-card-verdict .planning-card-value")
    page.select_option(".planning-authority select", label="Thurrock (E06000034)")
    page.wait_for_selector("h1:has-text('Thurrock')")
    for key, text in expected_cards(baseline.figures).items():
        wait_for_card(page, key, text)
    assert page.locator(".planning-centre-toggle").count() == len(centres)
    assert "illustrative" in page.inner_text(".planning-note-illustrative")
    assert page.locator(".planning-centres-needed").count() == 0
    assert_map_fits_the_authority(page)
    assert "Whole authority: Thurrock" in page.text_content(".planning-card-under5 .planning-card-scope")
    # Upload stays, for the council's real file.
    assert page.locator(".planning-upload-panel .planning-centres-upload").count() == 1
    page.screenshot(path=str(screenshots / "dashboard-thurrock.png"))


def test_page_shows_a_loading_message_and_no_developer_text(voila, page):
    html = fetch(voila.url)
    assert "Loading the children's centres dashboard" in html
    assert "window.voila_process = window.planning_loading" in html
    assert "<title>Children's centres dashboard</title>" in html
    page.goto(voila.url)
    page.wait_for_selector(".planning-card-verdict .planning-card-value")
    text = page.inner_text("body")
    assert "Updated in" not in text and "Executing" not in text
    assert "not trusted" not in voila.log.read_text()


def kernel_id(html: str) -> str:
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html)
    assert found, "no kernel id in the page"
    return found.group(1)


def _message(msg_type: str, content: dict[str, Any], session: str) -> dict[str, Any]:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "probe",
                   "session": session, "date": "2026-01-01T00:00:00Z", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
    }  # fmt: skip


def _send(ws, message: dict[str, Any], channel: str, v1: bool) -> None:
    if v1:
        from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

        ws.send_binary(serialize_msg_to_ws_v1(message, channel, lambda o: json.dumps(o).encode()))
    else:
        ws.send(json.dumps({**message, "channel": channel}))


def _replies(ws, wanted: set[str], v1: bool, seconds: float = 30) -> dict[str, dict[str, Any]]:
    """Replies (by the msg_id they answer) until all ``wanted`` arrive or time runs out."""
    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + seconds
    while wanted - set(found) and time.monotonic() < deadline:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            raw = ws.recv()
        except Exception:
            break
        if v1:
            _, parts = deserialize_msg_from_ws_v1(raw)
            msg = {"header": json.loads(parts[0]), "parent_header": json.loads(parts[1]),
                   "content": json.loads(parts[3])}  # fmt: skip
        else:
            msg = json.loads(raw)
        parent = (msg.get("parent_header") or {}).get("msg_id")
        if parent in wanted and msg["header"]["msg_type"].endswith("_reply"):
            found[parent] = msg
    return found


@pytest.mark.parametrize("v1", [False, True], ids=["json-protocol", "v1-protocol"])
def test_raw_execute_request_over_the_websocket_is_refused(voila, tmp_path, v1):
    websocket = pytest.importorskip("websocket")
    kernel = kernel_id(fetch(voila.url))
    marker = tmp_path / "pwned.txt"
    session = uuid.uuid4().hex
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{voila.port}/api/kernels/{kernel}/channels?session_id={session}",
        subprotocols=["v1.kernel.websocket.jupyter.org"] if v1 else None,
        origin=f"http://127.0.0.1:{voila.port}",
        timeout=30,
    )
    try:
        code = f"open({str(marker)!r}, 'w').write('the viewer ran code')"
        execute = _message("execute_request", {"code": code, "silent": False,
                                               "store_history": False, "user_expressions": {},
                                               "allow_stdin": False, "stop_on_error": True},
                           session)  # fmt: skip
        on_control = _message("execute_request", {"code": code}, session)
        complete = _message("complete_request", {"code": "import o", "cursor_pos": 8}, session)
        info = _message("kernel_info_request", {}, session)
        _send(ws, execute, "shell", v1)
        _send(ws, on_control, "control", v1)
        _send(ws, complete, "shell", v1)
        _send(ws, info, "shell", v1)  # allowed: proves the kernel answers this connection
        ids = {m["header"]["msg_id"] for m in (execute, on_control, complete, info)}
        replies = _replies(ws, ids, v1)
    finally:
        ws.close()
    assert set(replies) == ids
    for refused in (execute, on_control, complete):
        reply = replies[refused["header"]["msg_id"]]
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "Forbidden"
        assert "not accepted" in reply["content"]["evalue"]
    assert replies[info["header"]["msg_id"]]["content"]["status"] == "ok"
    time.sleep(1)
    assert not marker.exists()


@pytest.mark.parametrize(
    "path, method",
    [
        ("lab", "GET"), ("lab/tree/sufficiency.ipynb", "GET"), ("tree", "GET"),
        ("voila/tree", "GET"), ("api/contents", "GET"), ("api/contents/sufficiency.ipynb", "GET"),
        ("voila/api/contents", "GET"), ("files/sufficiency.ipynb", "GET"),
        ("voila/files/sufficiency.ipynb", "GET"), ("voila/files/sufficiency.py", "GET"),
        ("voila/files/..%2Fpyproject.toml", "GET"), ("voila/render/sufficiency.ipynb", "GET"),
        ("api/kernels", "GET"), ("api/kernels", "POST"), ("api/sessions", "GET"),
        ("api/terminals", "POST"), ("terminals/1", "GET"), ("api/kernelspecs", "GET"),
    ],
)  # fmt: skip
def test_no_lab_tree_contents_or_files(voila, path, method):
    assert status(voila.url + path, method=method) in (403, 404, 405)


def test_page_carries_no_source(voila):
    page = fetch(voila.url)
    assert "build_dashboard" not in page
    assert 'authority = "E06000015"' not in page and "authority = &quot;" not in page


def test_idle_kernels_are_culled(tmp_path):
    server = launch(tmp_path / "voila.log", cull_idle_timeout=3, cull_interval=1)
    try:
        kernel = kernel_id(fetch(server.url))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status(f"{server.url}api/kernels/{kernel}") == 200:
            time.sleep(1)
        assert status(f"{server.url}api/kernels/{kernel}") == 404
        assert "Culling" in server.log.read_text()
    finally:
        server.stop()


def _decode(raw: str | bytes, v1: bool) -> dict[str, Any]:
    """A message received over the kernel websocket (either protocol, with or without buffers)."""
    from jupyter_server.services.kernels.connection.base import (
        deserialize_binary_message,
        deserialize_msg_from_ws_v1,
    )

    if v1:
        channel, parts = deserialize_msg_from_ws_v1(raw)
        header, parent, metadata, content = (json.loads(part) for part in parts[:4])
        return {"channel": channel, "header": header, "parent_header": parent,
                "metadata": metadata, "content": content}  # fmt: skip
    return deserialize_binary_message(raw) if isinstance(raw, bytes) else json.loads(raw)


class _Garbage:
    """Stands for a message part that is not JSON at all (v1 protocol only)."""


def _send_raw(ws, message: dict[str, Any], v1: bool) -> None:
    """Like _send, but parts standing for _Garbage go out as bytes that are not JSON."""
    if v1:
        from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

        def pack(part: Any) -> bytes:
            return b"{not json" if isinstance(part, _Garbage) else json.dumps(part).encode()

        ws.send_binary(serialize_msg_to_ws_v1(message, "shell", pack))
    else:
        ws.send(json.dumps({**message, "channel": "shell"}))


@pytest.mark.parametrize("v1", [False, True], ids=["json-protocol", "v1-protocol"])
def test_malformed_widget_messages_send_no_traceback_back(voila, v1):
    """Garbage a viewer could send over the kernel websocket: a widget control comm in a protocol
    version the kernel does not speak, messages for comms that do not exist, widget values of the
    wrong type, data that is not an object, parts that are not JSON. Nothing received back may
    carry a traceback or a server path, and the connection and kernel keep working."""
    websocket = pytest.importorskip("websocket")
    from ipywidgets._version import __control_protocol_version__

    kernel = kernel_id(fetch(voila.url))
    session = uuid.uuid4().hex
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{voila.port}/api/kernels/{kernel}/channels?session_id={session}",
        subprotocols=["v1.kernel.websocket.jupyter.org"] if v1 else None,
        origin=f"http://127.0.0.1:{voila.port}",
        timeout=30,
    )
    received: list[str | bytes] = []

    def receive_until(done, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                raw = ws.recv()
            except websocket.WebSocketTimeoutException:
                return
            received.append(raw)
            if done(_decode(raw, v1)):
                return

    def control_comm(version: str) -> dict[str, Any]:
        content = {"comm_id": uuid.uuid4().hex, "data": {}, "target_name": "jupyter.widget.control"}
        message = _message("comm_open", content, session)
        message["metadata"] = {"version": version}
        return message

    try:
        # A control comm in a protocol version the kernel does not speak: the kernel closes it.
        wrong = control_comm("99.0.0")
        _send(ws, wrong, "shell", v1)
        receive_until(lambda m: m["header"]["msg_type"] == "comm_close", seconds=30)
        # The real widgets, by name, from a well-formed control comm.
        control = control_comm(__control_protocol_version__)
        _send(ws, control, "shell", v1)
        comm = control["content"]["comm_id"]
        _send(ws, _message("comm_msg", {"comm_id": comm, "data": {"method": "request_states"}},
                           session), "shell", v1)  # fmt: skip
        states: dict[str, Any] = {}

        def got_states(msg: dict[str, Any]) -> bool:
            data = msg["content"].get("data")
            if isinstance(data, dict) and data.get("method") == "update_states":
                states.update(data["states"])
                return True
            return False

        receive_until(got_states, seconds=60)
        models: dict[str, str] = {}
        for model_id, state in states.items():
            models.setdefault(state["model_name"], model_id)
        assert {"DropdownModel", "CheckboxModel", "FloatSliderModel", "LeafletMapModel"} <= set(
            models
        )

        def update(name: str, state: dict[str, Any]) -> dict[str, Any]:
            content = {"comm_id": models[name], "data": {"method": "update", "state": state}}
            return _message("comm_msg", content, session)

        garbage = [
            update("DropdownModel", {"index": "garbage"}),
            update("DropdownModel", {"index": 10**9}),
            update("CheckboxModel", {"value": [1, 2]}),
            update("FloatSliderModel", {"value": "x"}),
            _message("comm_msg", {"comm_id": models["LeafletMapModel"],
                                  "data": {"method": "custom", "content": {
                                      "event": "interaction", "type": "click",
                                      "coordinates": ["a", {}]}}}, session),  # fmt: skip
            _message("comm_msg", {"comm_id": models["LeafletMapModel"], "data": "not an object"},
                     session),  # fmt: skip
            _message("comm_msg", {"comm_id": models["LeafletMapModel"], "data": {"method": 5}},
                     session),  # fmt: skip
            _message("comm_msg", {"comm_id": "no-such-comm", "data": {"method": "update"}},
                     session),  # fmt: skip
            _message("comm_msg", {"comm_id": 12, "data": None}, session),
            _message("comm_msg", _Garbage(), session)
            if v1
            else {**_message("comm_msg", {}, session), "header": "not an object"},
        ]
        for message in garbage:
            _send_raw(ws, message, v1)
        if not v1:
            ws.send("{not json")
        # Still connected, and the kernel still answers.
        info = _message("kernel_info_request", {}, session)
        _send(ws, info, "shell", v1)
        wanted = info["header"]["msg_id"]
        receive_until(lambda m: (m.get("parent_header") or {}).get("msg_id") == wanted
                      and m["header"]["msg_type"] == "kernel_info_reply", seconds=60)  # fmt: skip
        replies = [_decode(raw, v1) for raw in received]
        assert any(m["header"]["msg_type"] == "kernel_info_reply" for m in replies)
        receive_until(lambda m: False, seconds=3)  # whatever the garbage still causes
    finally:
        ws.close()
    assert received
    for raw in received:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        for leak in ("/work", "site-packages", "Traceback", str(REPO)):
            assert leak not in text, text[:2000]
    # The operator still sees what went wrong: in the server log, not on the page.
    assert "Withheld kernel" in voila.log.read_text()


def test_pages_carry_x_frame_options_and_keep_the_csp(voila):
    with urllib.request.urlopen(voila.url, timeout=180) as response:
        headers = response.headers
        response.read()
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Every other response too, e.g. the refusal of a file (a plain tornado handler, which
    # jupyter_server's header settings and its CSP do not reach).
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(voila.url + "voila/files/sufficiency.ipynb", timeout=30)
    with refused.value as error:
        assert error.code == 403
        assert error.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_how_sure_shows_each_verdict_with_its_probability(voila, page, derby_board_parts):
    """On request the page gives each verdict with its probability (issue 16), for the change
    being tried, and clears it when the change changes."""
    _, centres = derby_board_parts
    expected = Dashboard.for_authority("Derby", centres=centres).verdict_odds()
    page.goto(voila.url)
    page.wait_for_selector(".planning-card-verdict .planning-card-value")
    page.click(".planning-how-sure button, button.planning-how-sure")
    page.wait_for_selector(".planning-how-sure-text li")
    shown = [item.strip() for item in page.locator(".planning-how-sure-text li").all_inner_texts()]
    assert shown == expected
    # The report's error bars, drawn offline as inline SVG.
    assert page.locator(".planning-how-sure-text svg").count() >= 1
    page.click(".planning-centre-cc03 input[type=checkbox]")
    page.wait_for_function(
        "() => !document.querySelector('.planning-how-sure-text li')", timeout=60_000
    )
