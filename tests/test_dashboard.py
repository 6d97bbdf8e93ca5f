"""The councillors' dashboard without a browser: the Dashboard logic against the scenario engine,
untrusted input refused with a clear message, the widgets wired to it, and the Voila lock-down
settings. The browser and the real Voila server are in test_dashboard_browser.py."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from planning import ValidationError
from planning.apps.dashboard.server import (
    ALLOWED_MESSAGE_TYPES,
    DEFAULT_CULL_CONNECTED_TIMEOUT,
    DEFAULT_CULL_IDLE_TIMEOUT,
    DEFAULT_MAX_KERNELS,
    PlanningKernelManager,
    WidgetOnlyConnection,
    busy_page,
    voila_command,
)
from planning.apps.dashboard.model import (
    MAX_ADDED_SITES,
    WHOLE_AUTHORITY,
    Dashboard,
    format_count,
    format_share,
)
from planning.apps.dashboard.view import build_dashboard
from planning.inputs.centres import read_centres
from planning.analysis.scenarios import Scenario, ScenarioEngine

from conftest import REPO, make_centres

X0, Y = 430_000.0, 335_500.0


@pytest.fixture(scope="module")
def derby_centres(derby_areas, derby_centres_file):
    return read_centres(derby_centres_file, areas=derby_areas)


@pytest.fixture(scope="module")
def derby_engine(derby_areas, derby_centres):
    return ScenarioEngine(derby_areas, derby_centres)


@pytest.fixture
def board(derby_areas, derby_centres):
    return Dashboard(derby_areas, derby_centres, authority_code="E06000015", authority_name="Derby")


@pytest.fixture
def strip_board(strip_town):
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    return Dashboard(strip_town, centres)


def expected_cards(figures) -> dict[str, str]:
    """Card values formatted independently of the dashboard's formatters."""
    return {
        "under5": f"{figures['under5']:,.0f}",
        "under5_income_deprived": f"{figures['under5_income_deprived']:,.0f}",
        "share_within_reach": f"{100 * figures['share_within_reach']:.1f}%",
        "share_deprived_within_reach": f"{100 * figures['share_deprived_within_reach']:.1f}%",
        "verdict": figures["rag"],
    }


def values(cards) -> dict[str, str]:
    return {card.key: card.value for card in cards}


# ---------------------------------------------------------------------- logic, by hand and Derby


def test_strip_town_by_hand(strip_board):
    # Closing B leaves A at x0+500 serving cells 0..4 km away: 100+200+300 of 1,500 within 2.5 km.
    strip_board.set_open("B", False)
    cards = values(strip_board.cards())
    assert cards["under5"] == "1,500"
    assert cards["share_within_reach"] == "40.0%"
    assert strip_board.figures_for("East") is None  # its only centre is off
    assert values(strip_board.cards("East"))["verdict"] == "n/a"
    assert strip_board.summary()[0].startswith("900 under-5s in 2 small area(s) lose")


def test_toggle_equals_engine(board, derby_engine):
    board.set_open("CC03", False)
    evaluation = derby_engine.evaluate(Scenario().close("CC03"))
    assert values(board.cards()) == expected_cards(evaluation.figures)
    east = evaluation.localities.loc["East"]
    assert values(board.cards("East")) == expected_cards(east)
    assert board.changes() == ["Switched off: Illustrative site 3 (near Spondon)"]
    assert not board.is_open("CC03")
    board.set_open("CC03", True)
    assert values(board.cards()) == expected_cards(derby_engine.baseline.figures)


def test_add_site_by_postcode_equals_engine(board, derby_engine):
    board.set_open("CC03", False)
    site = board.add_site(postcode=" de21 4et ")
    assert site.site_id == "NEW1" and "DE21 4ET" in site.name
    expected = derby_engine.evaluate(Scenario().close("CC03").open("NEW1", postcode="DE21 4ET"))
    assert values(board.cards()) == expected_cards(expected.figures)
    assert board.centre_ids[-1] == "NEW1"
    # Switching an added site off removes it.
    board.set_open("NEW1", False)
    assert "NEW1" not in board.centre_ids


def test_reach_slider_equals_engine(board, derby_engine):
    board.set_reach_km(2.0)
    expected = derby_engine.evaluate(Scenario().set_standard(reach_km=2.0))
    assert values(board.cards()) == expected_cards(expected.figures)
    assert board.cards()[2].label == "Within 2 km of a centre"
    assert board.table()["reach_km"].eq(2.0).all()


def test_reset_returns_to_current_network(board, derby_engine):
    board.set_open("CC03", False)
    board.add_site(latitude=52.92, longitude=-1.47)
    board.set_reach_km(1.5)
    board.reset()
    assert not board.changed
    assert board.scenario.actions == ()
    assert board.centre_ids == list(derby_engine.current.index)
    assert values(board.cards()) == expected_cards(derby_engine.baseline.figures)
    assert board.summary()[0].startswith("This is the current network")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"postcode": "de99  9qq"}, r"^We couldn't find DE99 9QQ in the ONS Postcode Directory"),
        (
            {"postcode": "hello"},
            r"^We couldn't find HELLO\. Type a full postcode such as DE1 2FS, or click the map\.$",
        ),
        ({"postcode": "   "}, r"^Type a postcode such as DE1 2FS, or click the map\.$"),
        ({"postcode": "x" * 200}, "too long for a postcode"),
        ({"postcode": ["DE1"]}, "A postcode is text"),
        ({"postcode": "tr1 1aa"}, r"^TR1 1AA is \d+ km from Derby; choose a site within 10 km"),
        ({"latitude": "north", "longitude": -1.5}, "'latitude' must be a number"),
        ({"latitude": 48.85, "longitude": 2.35}, "outside"),
        ({}, "no location"),
    ],
)
def test_bad_sites_are_refused_with_a_message(board, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        board.add_site(**kwargs)
    assert not board.changed


@pytest.mark.parametrize(
    "centre_id, value, message",
    [
        ("CC99", False, "unknown centre 'CC99'; the centres are CC01, CC02"),
        ("<script>", False, "unknown centre"),
        (None, False, "unknown centre None"),
        ("CC03", "yes", "on/off must be true or false"),
    ],
)
def test_bad_toggles_are_refused(board, centre_id, value, message):
    with pytest.raises(ValidationError, match=message):
        board.set_open(centre_id, value)
    assert not board.changed


def test_last_centre_stays_open(strip_board):
    strip_board.set_open("A", False)
    with pytest.raises(ValidationError, match="last open centre"):
        strip_board.set_open("B", False)


@pytest.mark.parametrize("value", [0.4, 5.01, float("nan"), float("inf"), "far", None])
def test_reach_outside_bounds_is_refused(board, value):
    with pytest.raises(ValidationError, match="distance must be"):
        board.set_reach_km(value)
    assert board.reach_km == 2.5


def test_added_sites_are_limited(strip_board):
    for _ in range(MAX_ADDED_SITES):
        strip_board.add_site(easting=X0 + 2500, northing=Y)
    with pytest.raises(ValidationError, match=f"at most {MAX_ADDED_SITES} sites"):
        strip_board.add_site(easting=X0 + 2500, northing=Y)


def test_unknown_locality_is_refused(board):
    with pytest.raises(ValidationError, match="unknown locality 'Nowhere'"):
        board.cards("Nowhere")


def test_table_and_csv(board, derby_engine):
    board.set_open("CC03", False)
    evaluation = derby_engine.evaluate(Scenario().close("CC03"))
    table = board.table()
    assert table.index.tolist() == [*evaluation.localities.index, WHOLE_AUTHORITY]
    lines = [line for line in board.csv().splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert [r["locality"] for r in rows] == table.index.tolist()
    east = next(r for r in rows if r["locality"] == "East")
    assert float(east["percent_within_reach"]) == pytest.approx(
        100 * evaluation.localities.loc["East", "share_within_reach"], abs=0.05
    )
    assert east["rag"] == evaluation.localities.loc["East", "rag"]
    assert east["reasons"] == "; ".join(evaluation.localities.loc["East", "reasons"])
    assert board.csv_data_uri().startswith("data:text/csv;charset=utf-8;base64,")


def test_csv_records_the_change_rounds_and_names_the_scenario(board, derby_engine):
    """Figures for a change cannot be passed off as the current network: the file name and
    comment lines say what was tried, the illustrative caveat travels, figures are rounded."""
    assert board.csv_filename() == "derby_sufficiency_current.csv"
    assert "# Change being tried: none (the current network)" in board.csv().splitlines()
    board.set_open("CC03", False)
    assert board.csv_filename() == "derby_sufficiency_close-CC03.csv"
    text = board.csv()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[1] == "# Change being tried: Switched off: Illustrative site 3 (near Spondon)"
    assert any("not for the current network" in line for line in comments)
    assert any("illustrative sites, not the council's real centres" in line for line in comments)
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    east = next(r for r in rows if r["locality"] == "East")
    evaluation = derby_engine.evaluate(Scenario().close("CC03"))
    share = evaluation.localities.loc["East", "share_within_reach"]
    assert east["percent_within_reach"] == f"{100 * share:.1f}"
    load = evaluation.localities.loc["East", "under5_per_centre"]
    assert east["under5_per_centre"] == f"{load:.0f}"
    for row in rows:  # every figure rounded: no long decimals anywhere
        for column, cell in row.items():
            if column != "reasons":
                assert not re.search(r"\.\d{3,}", cell), (column, cell)
    board.add_site(postcode="DE1 2FS")
    board.set_reach_km(3)
    assert board.csv_filename() == "derby_sufficiency_close-CC03_add-NEW1_reach-3km.csv"


def test_csv_defuses_spreadsheet_formulas(strip_town):
    centres = make_centres({"A": (X0 + 500, Y)}, locality=["=HYPERLINK(\"x\")"])
    text = Dashboard(strip_town, centres).csv()
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text


def test_illustrative_centres_are_flagged(board, strip_board):
    assert board.illustrative and "illustrative" in board.notes()[0]
    assert not any("illustrative" in note for note in strip_board.notes())


def test_formatters():
    assert format_count(15795.0) == "15,795"
    assert format_share(0.97589) == "97.6%"
    assert format_count(np.nan) == format_share(None) == "n/a"


def test_every_authority_opens_on_its_illustrative_sites_by_the_cli_rule():
    from planning.inputs.illustrative import resolve_centres

    thurrock = Dashboard.for_authority("Thurrock")
    assert thurrock.illustrative and thurrock.authority_code == "E06000034"
    assert list(thurrock.current.index) == list(
        read_centres(resolve_centres("Thurrock"), areas=thurrock.areas).index
    )
    hull = Dashboard.for_authority("E06000010")  # no shipped file: placed as the CLI does
    assert hull.illustrative and len(hull.current) == len(
        read_centres(resolve_centres("E06000010"), areas=hull.areas)
    )


def test_cards_say_whether_they_are_for_the_locality_or_the_authority(board):
    assert {card.scope for card in board.cards()} == {"Whole authority: Derby"}
    assert {card.scope for card in board.cards("East")} == {"Locality: East"}


def test_switching_a_centre_off_reports_areas_moving_locality(board, derby_engine):
    assert board.locality_moves() == []
    board.set_open("CC03", False)
    before, after = derby_engine.baseline, derby_engine.evaluate(Scenario().close("CC03"))
    old = before.areas["centre_id"].map(before.centres["locality"])
    new = after.areas["centre_id"].map(after.centres["locality"])
    moved = old != new
    assert moved.any()
    expected = []
    for (source, target), group in board.areas["under5"][moved].groupby([old[moved], new[moved]]):
        expected.append(
            (group.sum(), f"{source} lost {group.sum():,.0f} under-5s to {target}: their "
                          f"nearest centre is now in {target}")
        )  # fmt: skip
    assert board.locality_moves() == [text for _, text in sorted(expected, reverse=True)]


def test_postcode_is_normalised_and_a_duplicate_site_is_warned(board):
    first = board.add_site(postcode="  de1   2fs ")
    assert first.name == "New site 1 (at DE1 2FS)" and first.warning == ""
    second = board.add_site(postcode="DE12FS")
    assert "same place as New site 1 (at DE1 2FS)" in second.warning
    x, y = board.current.loc["CC03", ["easting", "northing"]]
    on_a_centre = board.add_site(easting=x + 20, northing=y)
    assert "same place as Illustrative site 3" in on_a_centre.warning
    board.set_open("CC03", False)  # a closed centre's place is free again
    board.set_open(on_a_centre.site_id, False)  # (switching an added site off removes it)
    assert board.add_site(easting=x, northing=y + 20).warning == ""


def test_centre_popup_and_area_details(board, derby_engine):
    details = board.centre_details("CC02")
    load = derby_engine.baseline.centres.loc["CC02", "under5"]
    assert details["locality"] == "East" and details["kind"] == "Family hub"
    assert details["load"] == f"{load:,.0f} under-5s, above the 600-1,200 range"
    assert details["state"] == "Open"
    board.set_open("CC02", False)
    assert board.centre_details("CC02")["state"] == "Switched off"
    code = board.areas.index[0]
    area = board.area_details(code)
    served = board.evaluate().areas.loc[code]
    assert area["under5"] == f"{board.areas.loc[code, 'under5']:,.0f}"
    assert area["distance"].startswith(f"{served['distance_m'] / 1000:.1f} km")
    assert area["centre"].startswith(board.centre_name(served["centre_id"]))
    assert board.area_details("<script>") is None


# ---------------------------------------------------------------------- widgets, no browser


@pytest.fixture(scope="module")
def app():
    from planning.apps.dashboard.view import DashboardApp

    return DashboardApp("E06000015")


@pytest.fixture
def view(app):
    if app.authority.value != "E06000015":
        app.authority.value = "E06000015"
    # A UI mode, not a change: "Back to the current network" leaves it as it is, so a test
    # that switched it on must not hand it on to the next (the shared app is module-scoped).
    app.view.click_mode.value = False
    app.view.reset_button.click()
    app.view.locality.value = WHOLE_AUTHORITY
    return app.view


def card_value(view, key: str) -> str:
    import re

    html = view.cards[key].value
    value = re.search(r'class="planning-card-value">(.*?)</div>', html).group(1)
    return re.sub(r"<[^>]+>", "", value)


def test_build_dashboard_returns_a_widget():
    import ipywidgets

    widget = build_dashboard("Derby")
    assert isinstance(widget, ipywidgets.VBox)
    assert "planning-dashboard" in widget._dom_classes


def test_checkbox_updates_cards_table_and_map(view, derby_engine):
    expected = derby_engine.evaluate(Scenario().close("CC03"))
    view.locality.value = "East"
    view.toggles["CC03"].value = False
    want = expected_cards(expected.localities.loc["East"])
    assert {key: card_value(view, key) for key in want} == want
    assert "planning-selected" in view.table.value and "East" in view.table.value
    assert "Switched off: Illustrative site 3" in view.summary.value
    gaps = {f["id"] for f in view.map.gaps.data["features"]}
    assert gaps == set(expected.areas.index[~expected.areas["within_reach"]])
    assert len(view.map.rings.layers) == len(expected.centres)
    assert len(view.map.locality.data["features"]) > 0


def test_bad_postcode_shows_an_escaped_message_and_changes_nothing(view):
    before = card_value(view, "share_within_reach")
    view.postcode.value = "<b>DE99</b>"
    view.add_button.click()
    assert "planning-message-error" in view.message.value
    assert "&lt;B&gt;DE99" in view.message.value and "<b>" not in view.message.value.lower()
    assert card_value(view, "share_within_reach") == before
    assert list(view.toggles) == list(view.board.current.index)


def test_map_click_adds_a_site_only_in_click_mode(view):
    view.map._interaction(type="click", coordinates=[52.92, -1.47])
    assert "NEW1" not in view.toggles
    view.click_mode.value = True
    view.map._interaction(type="click", coordinates=[52.92, -1.47])
    assert "NEW1" in view.toggles and view.click_mode.value is False
    assert "Added New site 1" in view.message.value
    view.click_mode.value = True
    view.map._interaction(type="click", coordinates=["52.9; import os", None])
    assert "planning-message-error" in view.message.value
    view.reset_button.click()
    assert "NEW1" not in view.toggles and view.reach.value == 2.5


def test_refused_toggle_puts_the_checkbox_back(app):
    from planning.apps.dashboard.view import DashboardView

    centres = make_centres({"A": (X0 + 500, Y)}, locality=["West"])
    from planning.inputs.areas import toy_town

    lone = DashboardView(Dashboard(toy_town(rows=1, columns=5), centres))
    lone.toggles["A"].value = False
    assert lone.toggles["A"].value is True
    assert "last open centre" in lone.message.value



def test_cards_come_from_the_headline_path_and_tables_once_per_change(board, derby_engine):
    """Each control change: the whole authority's cards from the engine's array path
    (``headline``), before and without any table; the tables (``evaluate``) once for the
    change, however many parts of the page read them. The engine's own methods run, counted."""
    from planning.apps.dashboard.view import DashboardView

    view = DashboardView(board)
    calls = {"headline": 0, "evaluate": 0}
    for name in calls:
        method = getattr(board.engine, name)

        def counted(scenario, _method=method, _name=name):
            calls[_name] += 1
            return _method(scenario)

        setattr(board.engine, name, counted)
    board.set_open("CC03", False)
    expected = derby_engine.evaluate(Scenario().close("CC03"))
    assert values(board.cards()) == expected_cards(expected.figures)
    assert calls == {"headline": 1, "evaluate": 0}
    view.refresh()
    assert calls == {"headline": 1, "evaluate": 1}
    assert card_value(view, "share_within_reach") == expected_cards(expected.figures)[
        "share_within_reach"
    ]
    view.refresh()  # the same change: nothing is computed again
    assert calls == {"headline": 1, "evaluate": 1}
    view.reach.value = 2.0  # the slider: one more of each
    assert calls == {"headline": 2, "evaluate": 2}
    want = expected_cards(derby_engine.evaluate(Scenario().close("CC03").set_standard(reach_km=2.0)).figures)
    assert {key: card_value(view, key) for key in want} == want
    # A locality's cards read the locality table (already built for the change).
    view.locality.value = "East"
    assert calls == {"headline": 2, "evaluate": 2}

def uploaded(name: str, content: bytes) -> dict:
    """A file as ipywidgets' FileUpload holds it."""
    import datetime as dt

    return {"name": name, "type": "", "size": len(content), "content": memoryview(content),
            "last_modified": dt.datetime.now(dt.timezone.utc)}  # fmt: skip


def upload_panel(app):
    (page,) = app.body.children
    dashboard, panel = page.children
    assert dashboard is app.view.widget
    return panel


def test_other_authority_opens_on_illustrative_sites_and_reads_an_upload(app, tmp_path):
    from planning import load_areas

    app.authority.value = "E06000034"
    assert app.view.board.authority_name == "Thurrock" and app.view.board.illustrative
    panel = upload_panel(app)
    assert "illustrative" in panel.children[0].value
    upload, message = panel.children[1], panel.children[2]
    upload.value = (uploaded("centres.txt", b"abc"),)
    assert "must end in .csv" in message.value
    assert app.view.board.illustrative  # the dashboard stays while a file is refused
    points = load_areas("E06000034")[["point_easting", "point_northing"]].iloc[[0, 40]]
    text = "centre_id,name,easting,northing\n" + "".join(
        f"T{i},Thurrock centre {i},{x},{y}\n" for i, (x, y) in enumerate(points.to_numpy())
    )
    upload.value = (uploaded("thurrock.csv", text.encode()),)
    assert app.view is not None and app.view.board.authority_name == "Thurrock"
    assert list(app.view.toggles) == ["T0", "T1"]
    assert not any("illustrative" in note for note in app.view.board.notes())


def test_bad_upload_names_the_file_not_the_temporary_path(app):
    app.authority.value = "E06000015"
    app.authority.value = "E06000034"
    text = "centre_id,name\nA,No location\n"
    panel = upload_panel(app)
    panel.children[1].value = (uploaded("mine.csv", text.encode()),)
    message = upload_panel(app).children[2].value
    assert "mine.csv" in message and "planning-upload-" not in message


def test_marker_click_toggles_and_the_popup_follows(view, derby_engine):
    marker, _, popup = view.map._markers["CC03"]
    assert "Illustrative site 3" in marker.title and "East locality" in popup.value
    # What jupyter-leaflet sends when the marker is clicked in the browser.
    click = {"event": "interaction", "type": "click", "coordinates": marker.location}
    marker._handle_mouse_events(None, click, [])
    assert view.toggles["CC03"].value is False
    assert "Switched off" in popup.value and "planning-dot-off" in marker.icon.html
    expected = derby_engine.evaluate(Scenario().close("CC03"))
    assert card_value(view, "share_within_reach") == (
        f"{100 * expected.figures['share_within_reach']:.1f}%"
    )
    assert "lost" in view.moves.value and "their nearest centre is now in" in view.moves.value
    marker._handle_mouse_events(None, click, [])
    assert view.toggles["CC03"].value is True and view.moves.value == ""


def test_hovering_an_area_fills_the_info_box(view):
    code = view.board.areas.index[3]
    view.map.need._handle_mouse_events(
        None, {"event": "mouseover", "feature": {"id": code, "properties": {}}}, []
    )
    assert view.board.areas.loc[code, "area_name"] in view.map.info.value
    assert "Served by:" in view.map.info.value


def test_click_mode_says_now_click_the_map_and_postcode_is_echoed(view):
    view.click_mode.value = True
    assert "Now click the map" in view.message.value
    view.click_mode.value = False
    view.postcode.value = "de1 2fs"
    view.add_button.click()
    assert view.postcode.value == "DE1 2FS" and "Added New site 1 (at DE1 2FS)." in (
        view.message.value
    )
    view.add_button.click()
    assert "planning-message-warning" in view.message.value
    assert "same place as New site 1" in view.message.value


def test_no_developer_text_on_the_page(view):
    view.toggles["CC05"].value = False
    texts = [getattr(child, "value", "") for child in view.widget.children]
    assert not any("Updated in" in str(text) for text in texts)


# ---------------------------------------------------------------------- Voila lock-down settings


def test_voila_command_locks_the_server_down():
    command = voila_command(port=9999, base_url="dash")
    text = " ".join(command)
    assert command[3] == str(REPO / "src" / "planning" / "dashboards" / "sufficiency.ipynb")
    for flag in (
        "--Voila.ip=127.0.0.1",
        "--Voila.base_url=/dash/",
        "--Voila.kernel_websocket_connection_class=planning.apps.dashboard.server.WidgetOnlyConnection",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.file_denylist=.*",
        "--MappingKernelManager.cull_idle_timeout=120",
        "--MappingKernelManager.cull_interval=30",
        "--MappingKernelManager.cull_connected=False",
        "--VoilaConfiguration.multi_kernel_manager_class=planning.apps.dashboard.server.PlanningKernelManager",
        "--PlanningKernelManager.max_kernels=10",
        "--PlanningKernelManager.cull_connected_timeout=3600",
    ):
        assert flag in text
    # Served by our Voila application (bounded page handler, X-Frame-Options), not plain Voila.
    assert command[1:3] == ["-m", "planning.apps.dashboard.server"]


def test_voila_command_refuses_a_zero_kernel_limit():
    with pytest.raises(ValueError, match="max_kernels must be at least 1"):
        voila_command(max_kernels=0)


def test_kernel_limit_admits_pages_up_to_the_limit():
    manager = PlanningKernelManager(max_kernels=2)
    first, second = manager.admit(), manager.admit()
    assert first is not None and second is not None
    assert manager.page_kernels() == 2
    assert manager.admit() is None  # a third page gets the busy page
    manager.settle(first)  # its request ended without a kernel
    assert manager.page_kernels() == 1
    assert manager.admit() is not None


def test_busy_page_is_escaped_and_names_no_server_detail():
    html = busy_page(base_url='/d"><script>alert(1)</script>/', retry_after=60)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "The dashboard is busy" in html and "try again in a minute" in html
    assert 'content="60"' in html  # reloads itself after Retry-After
    for leak in (str(REPO), "site-packages", "Traceback", "/work"):
        assert leak not in html


@pytest.mark.parametrize(
    "channel, msg_type, content, allowed",
    [
        ("shell", "comm_msg", {}, True),
        ("shell", "kernel_info_request", {}, True),
        ("shell", "comm_open", {"target_name": "jupyter.widget.control"}, True),
        ("shell", "comm_open", {"target_name": "jupyter.widget"}, False),
        ("shell", "execute_request", {"code": "1"}, False),
        ("control", "execute_request", {"code": "1"}, False),
        ("shell", "complete_request", {}, False),
        ("shell", "inspect_request", {}, False),
        ("shell", "history_request", {}, False),
        ("shell", "shutdown_request", {}, False),
        ("stdin", "input_reply", {}, False),
        ("iopub", "comm_msg", {}, False),
    ],
)
def test_websocket_allow_list(channel, msg_type, content, allowed):
    connection = WidgetOnlyConnection()
    reason = connection.refusal(channel, {"msg_type": msg_type}, content)
    assert (reason is None) == allowed
    assert set(connection.allowed_message_types) == set(ALLOWED_MESSAGE_TYPES)


def test_cli_dashboard_passes_options(monkeypatch):
    from planning.apps.dashboard import server as _voila
    from planning.apps.cli import main

    seen = {}
    monkeypatch.setattr(_voila, "serve", lambda **options: seen.update(options) or 0)
    assert main(["dashboard", "--port", "9000", "--base-url", "/dash/", "--preheat", "0"]) == 0
    assert seen == {"port": 9000, "ip": "127.0.0.1", "base_url": "/dash/", "preheat": 0,
                    "max_kernels": DEFAULT_MAX_KERNELS,
                    "cull_idle_timeout": DEFAULT_CULL_IDLE_TIMEOUT,
                    "cull_connected_timeout": DEFAULT_CULL_CONNECTED_TIMEOUT,
                    "network": None}  # fmt: skip
    seen.clear()
    assert main(["dashboard", "--max-kernels", "3", "--cull-idle-timeout", "45",
                 "--cull-connected-timeout", "0"]) == 0  # fmt: skip
    assert (seen["max_kernels"], seen["cull_idle_timeout"], seen["cull_connected_timeout"]) == (
        3, 45, 0,
    )


def test_cli_dashboard_refuses_a_negative_connected_timeout(monkeypatch, capsys):
    from planning.apps.dashboard import server as _voila
    from planning.apps.cli import main

    monkeypatch.setattr(_voila, "serve", lambda **options: 0)
    assert main(["dashboard", "--cull-connected-timeout", "-5"]) == 2
    assert "--cull-connected-timeout -5" in capsys.readouterr().err


# ------------------------------------------------- issue 11 §6: labels from the standards in force


def test_cards_and_table_word_the_council_standards(strip_town):
    from planning.apps.dashboard.view import table_html
    from planning.standards import standards_from_dict

    council = standards_from_dict(
        {
            "load": {
                "min_under5_per_centre": 500,
                "target_under5_per_centre": 800,
                "max_under5_per_centre": 1000,
            },
            "deprivation": {"most_deprived_deciles": [1, 2]},
        },
        source="council.yaml",
    )
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    board = Dashboard(strip_town, centres, standards=council)
    labels = {card.key: card.label for card in board.cards()}
    assert labels["share_deprived_within_reach"] == "Within 2.5 km: 20% most deprived areas"
    # The headline is the estimated under-5s in income-deprived families (0.2 x 1,500), never the
    # 900 children aged 0-15 beside the under-5s.
    assert labels["under5_income_deprived"] == "Estimated under-5s in income-deprived families"
    assert "idaci_children" not in labels
    assert values(board.cards())["under5_income_deprived"] == "300"
    page = table_html(board.table(), deprived_label=board.evaluate().standards.deprived_label)
    assert "Within 2.5 km: 20% most deprived" in page and "30%" not in page
    assert "Children aged 0-15 in income-deprived families (IDACI)" in page
    reasons = " ".join(r for rs in board.table()["reasons"] for r in rs)
    assert "20% most deprived" in reasons and "30%" not in reasons
    assert any("+/-10%" in note for note in board.notes())


def test_popup_area_box_and_marker_carry_no_markup_from_names(strip_town):
    script = "<script>alert(1)</script>"
    centres = make_centres(
        {"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=[script, "East"], name=[script, "B"]
    )
    from planning.apps.dashboard.view import DashboardView

    view = DashboardView(Dashboard(strip_town, centres))
    marker, _, popup = view.map._markers["A"]
    assert "&lt;script&gt;" in popup.value and "<script>" not in popup.value
    assert marker.title == script  # a property Leaflet sets as text, never parsed as HTML
    assert "script" not in marker.icon.html
    view.map._hover(feature={"id": strip_town.index[0]})
    assert "<script>" not in view.map.info.value and "&lt;script&gt;" in view.map.info.value


def test_verdict_odds_are_the_assessment_draws_of_the_change_being_tried():
    """'How sure are these verdicts?' (issue 16): the authority's and each locality's verdict
    with its probability, from the same draws as `planning sufficiency --draws`."""
    from planning.analysis.uncertainty import verdict_text
    from planning.runs.sufficiency import run_sufficiency, run_uncertainty

    board = Dashboard.for_authority("Derby")
    lines = board.verdict_odds()
    sure = run_uncertainty(run_sufficiency("Derby")).table
    authority = sure[sure["level"] == "authority"].iloc[0]
    assert lines[0].startswith(f"Whole authority (Derby): {verdict_text(authority)} (")
    localities = sure[sure["level"] == "locality"]
    assert len(lines) == 1 + len(localities)
    for _, row in localities.iterrows():
        assert any(line.startswith(f"{row['name']}: {verdict_text(row)}") for line in lines)
    # The odds follow the change being tried.
    board.set_open("CC03", False)
    assert board.verdict_odds() != lines
