"""Sufficiency reports: the blocks the report notebook shows.

Each block takes a :class:`~planning.runs.sufficiency.SufficiencyRun` and returns an
``IPython.display.HTML`` block rendered from an autoescaped Jinja2 template: the title and
verdict, caveats, headline cards, reasons, the tables (localities, centres, wards, access,
standards, sources), the map and its caption, and the targeting, reach and street-network
sections.

The rest lives in modules named for their noun, and is re-exported here so that every import
from this module keeps working:

- :mod:`planning.outputs.report_charts`: the charts (:func:`bar_chart`, :func:`nice_step`,
  :func:`reach_by_deprivation_chart`, :func:`centre_load_chart`, the report's colours);
- :mod:`planning.outputs.report_render`: the report notebook Papermill runs
  (:func:`report_notebook`) and the self-contained HTML page (nbconvert, :func:`render_html`)
  and PDF (headless Chromium, :func:`html_to_pdf`, :func:`find_chromium`) it becomes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from planning._format import count, km, ratio, share, whole_share
from planning._html import Markup, render
from planning.analysis.need import IDACI_CHILDREN_HEADING, UNDER5_INCOME_DEPRIVED_LABEL
from planning.inputs.areas import ATTRIBUTION, DATA_VINTAGES
from planning.outputs.report_charts import (
    BEYOND_COLOUR,
    WITHIN_COLOUR,
    bar_chart,
    centre_load_chart,
    nice_step,
    reach_by_deprivation_chart,
)
from planning.outputs.report_render import (
    CHROMIUM_FLAGS,
    REPORT_NOTEBOOK,
    TITLE_METADATA,
    find_chromium,
    html_to_pdf,
    notebook_title,
    render_html,
    report_notebook,
)
from planning.runs.sufficiency import SufficiencyRun
from planning.standards import NEED_INDICATORS, NEED_NORMALISERS, Standards

# Every public name this module had before it was split, so imports from here keep working.
__all__ = [
    "BEYOND_COLOUR",
    "CHROMIUM_FLAGS",
    "OUTREACH_RULE_LABELS",
    "REASONS_COLUMN",
    "REPORT_NOTEBOOK",
    "TEXT_COLUMNS",
    "TITLE_METADATA",
    "VERDICT_COLUMNS",
    "WITHIN_COLOUR",
    "access_table",
    "bar_chart",
    "centre_load_chart",
    "centre_table",
    "find_chromium",
    "headline_cards",
    "html_to_pdf",
    "locality_table",
    "map_caption",
    "need_index_wording",
    "network_section",
    "nice_step",
    "notebook_title",
    "notes_block",
    "rag_badge",
    "reach_by_deprivation_chart",
    "reach_section",
    "reasons_block",
    "render_html",
    "report_map",
    "report_notebook",
    "report_title",
    "sources_block",
    "standards_table",
    "table_html",
    "targeting_section",
    "title_block",
    "ward_table",
]

logger = logging.getLogger(__name__)


def _html(text: str, *, metadata: dict[str, Any] | None = None) -> Any:
    from IPython.display import HTML

    return HTML(text, metadata=metadata)


def report_title(authority_name: str, date: dt.date) -> str:
    """The report's title, as its first heading, HTML ``<title>`` and PDF title.

    >>> report_title("Derby", dt.date(2026, 11, 29))
    "Children's centre sufficiency: Derby, 29 November 2026"
    """
    return f"Children's centre sufficiency: {authority_name}, {date.day} {date:%B %Y}"


def rag_badge(rag: str) -> Markup:
    """A verdict as a coloured badge (class ``rag rag-<verdict>``)."""
    return render("rag_badge.html.j2", rag=rag, classes=f"rag rag-{rag}")


def title_block(run: SufficiencyRun, *, date: dt.date | None = None) -> Any:
    """Report title with authority, date and the verdict."""
    date = date or dt.date.today()
    title = report_title(run.authority_name, date)
    return _html(
        render(
            "report_title.html.j2",
            title=title,
            authority_name=run.authority_name,
            authority_code=run.authority_code,
            badge=rag_badge(run.result.authority["rag"]),
        ),
        metadata={TITLE_METADATA: title},
    )


def notes_block(run: SufficiencyRun) -> Any:
    """Caveats that must be read before any figure (illustrative centres, estimated counts)."""
    return _html(render("report_notes.html.j2", notes=run.result.notes))


def headline_cards(run: SufficiencyRun) -> Any:
    """Headline figures: under-5s and the estimated under-5s in income-deprived families (a
    subset of them), reach, load and verdict. The IDACI count of children aged 0-15 is not a
    subset of the under-5s, so it is not headlined beside them (it is in the tables, labelled)."""
    a = run.result.authority
    s = run.result.standards
    reach = s.reach_label()
    cards = [
        (count(a["under5"]), "children under 5"),
        (
            count(a["under5_income_deprived"]),
            UNDER5_INCOME_DEPRIVED_LABEL,
        ),
        (share(a["share_within_reach"]), f"of under-5s within {reach} of a centre"),
        (
            share(a["share_deprived_within_reach"]),
            f"of under-5s in the {s.deprived_label} areas within {reach}",
        ),
        (count(a["under5_per_centre"]), f"under-5s per centre (standard {s.load_range_label})"),
        (ratio(a["centres_per_1000_under5"]), "centres per 1,000 under-5s"),
        (rag_badge(a["rag"]), "verdict"),
    ]
    return _html(render("report_cards.html.j2", cards=cards))


def reasons_block(run: SufficiencyRun) -> Any:
    """The authority verdict and each reason, worst first."""
    return _html(
        render(
            "report_reasons.html.j2",
            badge=rag_badge(run.result.authority["rag"]),
            reasons=run.result.authority["reasons"],
        )
    )


#: Columns that hold words, not figures: left-aligned like the row names.
TEXT_COLUMNS = frozenset(
    {"Verdict", "Centre", "Locality", "Hub/branch", "Load", "In authority", "Reasons", "Applied"}
)
#: The column of plain-English reasons: given room to be read on screen and on paper.
REASONS_COLUMN = "Reasons"
#: Columns whose cells are verdicts: coloured, with the verdict in words.
VERDICT_COLUMNS = frozenset({"Verdict"})


def _cell(value: Any, column: str) -> dict[str, str]:
    text = "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else value
    if column in VERDICT_COLUMNS:
        return {"text": str(text), "css": f"text rag-cell rag-{text}" if text else "text"}
    if column == REASONS_COLUMN:
        return {"text": str(text), "css": "text reasons"}
    return {"text": str(text), "css": "text" if column in TEXT_COLUMNS else "figure"}


def table_html(frame: pd.DataFrame, *, index: str | None = None, css: str = "") -> Markup:
    """A table of formatted figures with one header row.

    The index becomes the first column, headed ``index`` (its name in words: "Locality",
    "Ward"), so no row of pandas' index name is left empty under the headers. Names and words
    are left-aligned and figures right-aligned; verdict cells are coloured and say the verdict;
    the header row repeats on each printed page (``thead``).
    """
    columns = [{"label": index or "", "css": "text"}] if index is not None else []
    columns += [{"label": str(c), "css": _cell("", str(c))["css"]} for c in frame.columns]
    rows = []
    for key, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        row = [{"text": str(key), "css": "text"}] if index is not None else []
        row += [_cell(v, str(c)) for c, v in zip(frame.columns, values, strict=True)]
        rows.append(row)
    return render(
        "report_table.html.j2",
        columns=columns,
        rows=rows,
        row_headers=index is not None,
        css=css,
    )


def _table(frame: pd.DataFrame, *, index: str | None = None) -> Any:
    return _html(table_html(frame, index=index))


def locality_table(run: SufficiencyRun) -> Any:
    """One row per locality: under-5s, centres, load, reach overall and for the most deprived."""
    loc = run.result.localities
    deprived = run.result.standards.deprived_heading
    frame = pd.DataFrame(
        {
            "Verdict": loc["rag"],
            "Centres": loc["centres"],
            "Under-5s": loc["under5"].map(count),
            "Under-5s per centre": loc["under5_per_centre"].map(count),
            "Within reach": loc["share_within_reach"].map(share),
            f"{deprived} within reach": loc["share_deprived_within_reach"].map(share),
            "Others within reach": loc["share_other_within_reach"].map(share),
            "Reasons": loc["reasons"].map(lambda r: "; ".join(r)),
        }
    )
    return _table(frame, index="Locality")


def centre_table(run: SufficiencyRun) -> Any:
    """One row per centre: locality, hub or branch, catchment under-5s and load status."""
    c = run.result.centres
    frame = pd.DataFrame(
        {
            "Centre": c["name"],
            "Locality": c["locality"],
            "Hub/branch": c.get("kind", ""),
            "Under-5s in catchment": c["under5"].map(count),
            IDACI_CHILDREN_HEADING: c["idaci_children"].map(count),
            "Load": c["load_status"],
            "Within reach": c["share_within_reach"].map(share),
        }
    )
    if "in_authority" in c:
        frame["In authority"] = c["in_authority"].map({True: "yes", False: "no"}).fillna("")
    return _table(frame, index="Id")


def ward_table(run: SufficiencyRun) -> Any:
    """One row per ward: under-5s and the shares within reach."""
    w = run.result.wards
    deprived = run.result.standards.deprived_heading
    frame = pd.DataFrame(
        {
            "Under-5s": w["under5"].map(count),
            IDACI_CHILDREN_HEADING: w["idaci_children"].map(count),
            "Within reach": w["share_within_reach"].map(share),
            f"Within {run.result.standards.short_reach_label}": w["share_within_short"].map(share),
            f"{deprived} within reach": w["share_deprived_within_reach"].map(share),
            "Mean distance (km)": w["mean_distance_m"].map(lambda v: km(v, 1, unit=False)),
        }
    )
    return _table(frame, index="Ward")


def access_table(run: SufficiencyRun) -> Any:
    """Shares within each distance standard, overall and by deprivation group."""
    r = run.result
    s = r.standards
    a = r.areas
    rows = {}
    groups = {
        "All areas": a.index == a.index,
        s.deprived_heading: a["most_deprived_30"],
        "Other areas": ~a["most_deprived_30"],
    }
    for label, mask in groups.items():
        u5 = a.loc[mask, "under5"]
        total = u5.sum()
        rows[label] = {
            "Under-5s": count(total),
            f"Within {s.reach_km:g} km": share((u5 * a.loc[mask, "within_reach"]).sum() / total)
            if total
            else "n/a",
            f"Within {s.short_reach_label}": share((u5 * a.loc[mask, "within_short"]).sum() / total)
            if total
            else "n/a",
            f"Within {s.walk_minutes:g} min walk": share(
                (u5 * a.loc[mask, "within_walk"]).sum() / total
            )
            if total
            else "n/a",
        }
    return _table(pd.DataFrame(rows).T, index="Areas")


def standards_table(run: SufficiencyRun) -> Any:
    """The standards applied, so a reader can see what 'sufficient' meant here."""
    s = run.result.standards
    # Along a street network reach is measured on the streets and a walk needs no circuity.
    streets = run.result.distances is not None
    rows = {
        "Reasonable reach": f"{s.reach_km:g} km {'along the streets' if streets else 'straight line'}"
        + (f" ({s.rural_reach_km:g} km in rural areas)" if s.rural_reach_km else ""),
        "Also reported": f"{s.short_reach_label}; {s.walk_minutes:g} minutes' walk at "
        f"{s.walk_speed_kmh:g} km/h "
        + ("along the streets" if streets else f"with circuity {s.walk_circuity:g}"),
        "Reach-area size": f"{count(s.load_target)} under-5s per centre (range "
        f"{s.load_range_label})",
        "Most deprived": f"{s.deprived_label}: IMD deciles "
        f"{', '.join(map(str, s.most_deprived_deciles))} nationally",
        "Green / amber (most deprived within reach)": f"{whole_share(s.deprived_green)} / "
        f"{whole_share(s.deprived_amber)}",
        "Green / amber (all within reach)": f"{whole_share(s.all_green)} / {whole_share(s.all_amber)}",
        "Need index": need_index_wording(s),
        "Standards file": _file_name(run.inputs.get("standards_file")) or "given in code",
    }
    frame = pd.DataFrame({"Applied": list(rows.values())}, index=list(rows))
    return _table(frame, index="Standard")


def _indicator_label(name: str) -> str:
    """An indicator's name in words, without the parenthesis on how it is computed."""
    return NEED_INDICATORS.get(name, name.replace("_", " ")).split(" (")[0]


def need_index_wording(standards: Standards) -> str:
    """How the need index is built, in words: each indicator with its weight, and how
    indicators are put on one scale.

    >>> need_index_wording(Standards())  # doctest: +NORMALIZE_WHITESPACE
    'estimated under-5s in income-deprived families (weight 0.5), Index of Multiple Deprivation
    score (weight 0.3), children under 5 (weight 0.2); each put on one scale by percentile rank'
    """
    parts = ", ".join(
        f"{_indicator_label(name)} (weight {weight:g})"
        for name, weight in standards.need_weights.items()
    )
    scale = NEED_NORMALISERS.get(standards.need_normaliser, standards.need_normaliser)
    return f"{parts}; each put on one scale by {scale.split(' (')[0]}"


def _file_name(label: Any) -> str | None:
    """An input as a report names it: its place in the package or project as recorded
    (``planning/standards.yaml``, ``mine/centres.csv``), or, for a file elsewhere, its name
    alone, so no report shows a folder of this machine or a temporary folder."""
    if label is None or label == "":
        return None
    text = str(label)
    if Path(text).is_absolute() or text.startswith(("~", "\\\\")) or ":\\" in text[:3]:
        return Path(text.replace("\\", "/")).name
    return text


def sources_block(run: SufficiencyRun) -> Any:
    """Data vintages, input hashes and the Open Government Licence attribution."""
    recorded = run.inputs
    inputs = [
        (label, _file_name(recorded.get(f"{key}_file")) or missing, recorded.get(f"{key}_sha256"))
        for key, label, missing in (
            ("centres", "Centres", "given in code"),
            ("standards", "Standards", "given in code"),
            ("data", "Small-area data", "embedded"),
        )
    ]
    return _html(
        render(
            "report_sources.html.j2",
            vintages=DATA_VINTAGES,
            inputs=inputs,
            attribution=ATTRIBUTION,
        )
    )


def report_map(run: SufficiencyRun, *, tiles: str | None = "OpenStreetMap") -> Any:
    """Folium map of need, centres, catchments, the reach rings and gap areas (offline-safe)."""
    from planning.outputs.maps import sufficiency_map

    s = run.result.standards
    # The caveats (illustrative centres first) open the report and are repeated under the map
    # by the notebook, outside it: a box on the map would cover part of the city.
    return sufficiency_map(
        run.result.areas,
        run.result.centres,
        reach_metres=s.ring_metres,
        deprived_label=s.deprived_label,
        tiles=tiles,
        title=f"{run.authority_name}: need, centres and reach",
        note=None,
        localities=run.result.localities,
        print_ready=True,
    )


def map_caption(run: SufficiencyRun) -> Any:
    """The caveat that belongs with the map (illustrative centres), shown under it."""
    notes = run.result.notes[:1]
    return _html(render("report_notes.html.j2", notes=notes))


def targeting_section(run: SufficiencyRun) -> Any:
    """Targeting and outreach for the report: how well area-based targeting finds the children
    in income-deprived families, and what each outreach rule would reach (no registrations
    needed; see :mod:`planning.runs.targeting`)."""
    from planning.runs.targeting import run_targeting, targeting_html

    targeting = run_targeting(run.authority_code, run=run)
    outreach = targeting.outreach.assign(
        rule=targeting.outreach["rule"].map(lambda rule: OUTREACH_RULE_LABELS.get(rule, rule))
    )
    return _html(targeting_html(dataclasses.replace(targeting, outreach=outreach)))


#: The outreach rules (:data:`planning.analysis.targeting.ALLOCATION_RULES`) in words.
OUTREACH_RULE_LABELS = {
    "equal": "Equal hours for each group",
    "per_under5": "Hours in proportion to under-5s",
    "proportionate_universalism": "Part by under-5s, part by children in income-deprived "
    "families (proportionate universalism)",
    "idaci": "Hours in proportion to children in income-deprived families",
    "need_index": "Hours in proportion to under-5s weighted by need",
}


def reach_section(run: SufficiencyRun, registrations: str | Path | None) -> Any:
    """Reach from a registration extract, after disclosure control (empty without one).

    The extract is reduced to small-area counts as it is read; only protected counts reach the
    page (see :mod:`planning.runs.reach` and :mod:`planning.analysis.disclosure`)."""
    if registrations is None or str(registrations) == "":
        return _html("")
    from planning.runs.reach import publish_reach, reach_html, run_reach

    reach = run_reach(run.authority_code, registrations, run=run)
    return _html(reach_html(publish_reach(reach.result)))


def network_section(run: SufficiencyRun) -> Any:
    """What measuring along the street network changes (empty for straight-line runs).

    Reach in a straight line beside reach along the network, by national deprivation band
    (:func:`planning.analysis.network_distance.reach_by_band`), the areas behind a barrier
    (network distance more than 1.6 times the straight line) and those far from a street.
    Rendered from ``templates/html/report_section.html.j2`` (autoescaped).
    """
    result = run.result
    if result.distances is None or result.supply is None:
        return _html("")
    from planning.analysis.network_distance import reach_by_band

    bands = reach_by_band(result.areas, result.supply)
    show = pd.DataFrame(
        {
            "Under-5s": bands["under5"].map(count),
            "Within reach, straight line": bands["share_within_reach_straight"].map(share),
            "Within reach, along the streets": bands["share_within_reach_network"].map(share),
            "Difference (points)": (bands["difference"] * 100).map(lambda v: f"{v:+.1f}"),
            "Areas behind a barrier": bands["barrier_areas"].astype(int),
        },
        index=bands.index,
    )
    areas = result.areas
    barriers = areas.index[areas["barrier"].astype(bool)]
    far = int(areas["far_snap"].astype(bool).sum())
    parts: list[dict[str, Any]] = [
        {
            "kind": "paragraph",
            "text": f"Distances in this report are measured {result.distances.describe()}, "
            "from each small area's point to the nearest street and along the shortest walk; "
            "walking minutes use those metres at the walking speed, with no circuity factor.",
        },
        {"kind": "table", "html": table_html(show, index="Deprivation band")},
    ]
    if len(barriers):
        worst = areas.loc[barriers, "network_ratio"].sort_values(ascending=False)
        names = ", ".join(f"{code} ({value:.1f}x)" for code, value in worst.head(10).items())
        parts.append(
            {
                "kind": "paragraph",
                "text": f"{len(barriers)} small area(s) lie behind a barrier (the walk to their "
                f"centre is more than 1.6 times the straight line): {names}"
                + (" and others" if len(barriers) > 10 else "")
                + ".",
            }
        )
    if far:
        parts.append(
            {
                "kind": "paragraph",
                "text": f"{far} small area(s) are more than 250 m from a street in the network "
                "file; their distances are less certain.",
            }
        )
    return _html(
        str(
            render(
                "report_section.html.j2",
                css_class="network",
                title="Walking on real streets",
                notes=[],
                cards=[],
                parts=parts,
            )
        )
    )
