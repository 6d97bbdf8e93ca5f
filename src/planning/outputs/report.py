"""Sufficiency reports: presentation blocks for the report notebook, and the Papermill run that
executes it and renders a self-contained HTML file with no code and nothing fetched from a CDN.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from planning import settings
from planning._errors import PlanningError
from planning._format import count, km, ratio, share, whole_share
from planning._html import Markup, render
from planning.analysis.need import IDACI_CHILDREN_HEADING, UNDER5_INCOME_DEPRIVED_LABEL
from planning.inputs.areas import ATTRIBUTION, DATA_VINTAGES
from planning.runs.sufficiency import SufficiencyRun

logger = logging.getLogger(__name__)

REPORT_NOTEBOOK = "sufficiency_report.ipynb"


def report_notebook() -> Path:
    """The report notebook Papermill runs, shipped in the package (``planning/notebooks/``)."""
    return settings.package_path("notebooks", REPORT_NOTEBOOK)


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def rag_badge(rag: str) -> Markup:
    """A verdict as a coloured badge (class ``rag rag-<verdict>``)."""
    return render("rag_badge.html.j2", rag=rag, classes=f"rag rag-{rag}")


def title_block(run: SufficiencyRun, *, date: dt.date | None = None) -> Any:
    """Report title with authority, date and the verdict."""
    date = date or dt.date.today()
    return _html(
        render(
            "report_title.html.j2",
            authority_name=run.authority_name,
            authority_code=run.authority_code,
            date=f"{date:%d %B %Y}",
            badge=rag_badge(run.result.authority["rag"]),
        )
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


def _table(frame: pd.DataFrame) -> Any:
    return _html(frame.to_html(classes="planning", border=0, escape=True, na_rep="n/a"))


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
    frame.index.name = "Locality"
    return _table(frame)


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
    frame.index.name = "Id"
    return _table(frame)


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
    frame.index.name = "Ward"
    return _table(frame)


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
    return _table(pd.DataFrame(rows).T)


def standards_table(run: SufficiencyRun) -> Any:
    """The standards applied, so a reader can see what 'sufficient' meant here."""
    s = run.result.standards
    rows = {
        "Reasonable reach": f"{s.reach_km:g} km straight line"
        + (f" ({s.rural_reach_km:g} km in rural areas)" if s.rural_reach_km else ""),
        "Also reported": f"{s.short_reach_label}; {s.walk_minutes:g} minutes' walk at "
        f"{s.walk_speed_kmh:g} km/h with circuity {s.walk_circuity:g}",
        "Reach-area size": f"{count(s.load_target)} under-5s per centre (range "
        f"{s.load_range_label})",
        "Most deprived": f"{s.deprived_label}: IMD deciles "
        f"{', '.join(map(str, s.most_deprived_deciles))} nationally",
        "Green / amber (most deprived within reach)": f"{whole_share(s.deprived_green)} / "
        f"{whole_share(s.deprived_amber)}",
        "Green / amber (all within reach)": f"{whole_share(s.all_green)} / {whole_share(s.all_amber)}",
        "Need index weights": ", ".join(f"{k} {v:g}" for k, v in s.need_weights.items())
        + f" ({s.need_normaliser} normalised)",
        "Standards file": s.source,
    }
    frame = pd.DataFrame({"Standard": list(rows), "Applied": list(rows.values())}).set_index(
        "Standard"
    )
    return _table(frame)


def sources_block(run: SufficiencyRun) -> Any:
    """Data vintages, input hashes and the Open Government Licence attribution."""
    return _html(
        render(
            "report_sources.html.j2",
            vintages=DATA_VINTAGES,
            inputs=run.inputs,
            attribution=ATTRIBUTION,
        )
    )


def report_map(run: SufficiencyRun, *, tiles: str | None = "OpenStreetMap") -> Any:
    """Folium map of need, centres, catchments, the reach rings and gap areas (offline-safe)."""
    from planning.outputs.maps import sufficiency_map

    s = run.result.standards
    note = " ".join(run.result.notes[:1]) or None
    return sufficiency_map(
        run.result.areas,
        run.result.centres,
        reach_metres=(s.reach_m, s.short_reach_m),
        deprived_label=s.deprived_label,
        tiles=tiles,
        title=f"{run.authority_name}: need, centres and reach",
        note=note,
        localities=run.result.localities,
    )


def render_html(notebook: Path) -> str:
    """Render an executed notebook to one self-contained HTML page without code cells.

    Uses the ``offline_report`` template (the JupyterLab template without require.js, MathJax
    or Mermaid from a CDN) and embeds images; raises if any external script or stylesheet remains.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from planning.outputs.maps import assert_offline

    templates = settings.package_path("templates")
    exporter = HTMLExporter(
        template_name="offline_report",
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    assert_offline(body)
    return body


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    # Print what the HTML holds and nothing more: no request leaves the machine (map tiles
    # included), so a scheduled PDF is reproducible and runs with no network.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
)


def find_chromium() -> str | None:
    """The Chromium executable for PDF output: ``$PLANNING_CHROMIUM`` or the first of
    ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH; ``None`` if none."""
    configured = os.environ.get("PLANNING_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(
    html_file: str | Path,
    pdf_file: str | Path,
    *,
    chromium: str | None = None,
    timeout: float = 180.0,
) -> Path:
    """Print an HTML report to PDF with headless Chromium (``--print-to-pdf``).

    Runs with a throwaway profile (``--user-data-dir``) and without background traffic, so it
    works unattended under cron or systemd. Raises :class:`PlanningError` if Chromium is missing,
    fails, or writes something that is not a PDF.
    """
    source, target = Path(html_file).resolve(), Path(pdf_file).resolve()
    executable = chromium or find_chromium()
    if executable is None:
        raise PlanningError(
            "PDF output needs Chromium, which was not found: install it (`make system-deps`) or "
            "set PLANNING_CHROMIUM to its path"
        )
    with tempfile.TemporaryDirectory(prefix="planning-chromium-", ignore_cleanup_errors=True) as p:
        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={p}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PlanningError(
                f"Chromium did not print {source.name} to PDF within {timeout:.0f} s"
            ) from None
    ok = target.is_file() and target.read_bytes()[:5] == b"%PDF-"
    if done.returncode != 0 or not ok:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise PlanningError(
            f"Chromium could not print {source.name} to PDF (exit status {done.returncode}):\n"
            f"{tail}"
        )
    return target


def targeting_section(run: SufficiencyRun) -> Any:
    """Targeting and outreach for the report: how well area-based targeting finds the children
    in income-deprived families, and what each outreach rule would reach (no registrations
    needed; see :mod:`planning.runs.targeting`)."""
    from planning.runs.targeting import run_targeting, targeting_html

    targeting = run_targeting(run.authority_code, run=run)
    return _html(targeting_html(targeting))


def reach_section(run: SufficiencyRun, registrations: str | Path | None) -> Any:
    """Reach from a registration extract, after disclosure control (empty without one).

    The extract is reduced to small-area counts as it is read; only protected counts reach the
    page (see :mod:`planning.runs.reach` and :mod:`planning.analysis.disclosure`)."""
    if registrations is None or str(registrations) == "":
        return _html("")
    from planning.runs.reach import publish_reach, reach_html, run_reach

    reach = run_reach(run.authority_code, registrations, run=run)
    return _html(reach_html(publish_reach(reach.result)))
