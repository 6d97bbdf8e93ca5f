"""What changed between two sufficiency reports.

Every scheduled report saves its figures (``figures.json``: the ``summary.json`` content plus each
centre's location and load status). The next report for the same authority loads the previous
figures and opens with the differences: verdicts first, then the centres, figures, reasons,
standards, input files and data vintages that changed. The comparison is a plain function on two
dictionaries, so it can be tested without running a report; the notebook only displays it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from planning._errors import ValidationError
from planning._files import json_safe, write_json
from planning._format import count, km, ratio, share
from planning.analysis.need import IDACI_CHILDREN_HEADING
from planning.standards import Standards

#: A change of verdict is *beyond the noise* when the earlier verdict has less than this chance
#: under the new report's inputs (its uncertainty draws, :mod:`planning.analysis.uncertainty`).
NOISE_LEVEL = 0.05


def verdict_probabilities(uncertainty: Any) -> dict[str, Any]:
    """Each verdict's probability for the authority and every locality, from a run's
    :class:`planning.analysis.uncertainty.UncertaintyResult`, for ``figures.json``."""
    table = uncertainty.table

    def chances(row: Any) -> dict[str, float]:
        return {rag: float(row[f"p_{rag.lower()}"]) for rag in ("Green", "Amber", "Red")}

    authority = table[table["level"] == "authority"]
    return {
        "draws": int(uncertainty.draws),
        "authority": chances(authority.iloc[0]) if len(authority) else {},
        "localities": {
            str(row["name"]): chances(row)
            for _, row in table[table["level"] == "locality"].iterrows()
        },
    }


def report_figures(
    run: Any, *, date: dt.date | None = None, uncertainty: Any = None
) -> dict[str, Any]:
    """The figures a later report compares itself with: the ``summary.json`` content (verdict,
    reasons, figures, localities, standards, notes, data vintages, input hashes), each centre's
    location, locality and load status, and the report date.

    Parameters
    ----------
    run : planning.runs.sufficiency.SufficiencyRun
    date : datetime.date, optional
        The report date.
    uncertainty : UncertaintyResult, optional
        The run's uncertainty draws: each verdict's probability is kept
        (:func:`verdict_probabilities`), so that "what changed" can say whether a change of
        verdict is beyond the noise.
    """
    from planning.runs.sufficiency import summary

    figures = summary(run)
    figures.pop("generated", None)
    figures["report_date"] = date.isoformat() if date else None
    if uncertainty is not None:
        figures["verdict_probabilities"] = verdict_probabilities(uncertainty)
    centres = run.result.centres
    points = centres.geometry
    figures["centres"] = {
        str(centre): {
            "name": row.get("name"),
            "locality": row.get("locality"),
            "kind": row.get("kind"),
            "easting": round(float(points[centre].x), 1),
            "northing": round(float(points[centre].y), 1),
            "under5": row.get("under5"),
            "load_status": row.get("load_status"),
        }
        for centre, row in centres.iterrows()
    }
    return dict(json_safe(figures))


def save_figures(figures: Mapping[str, Any], path: str | Path | None) -> Path | None:
    """Write figures as JSON (no-op when ``path`` is None, as in unscheduled runs)."""
    if path is None:
        return None
    path = Path(path)
    write_json(path, figures, indent=1)
    return path


def load_figures(path: str | Path) -> dict[str, Any]:
    """Read a ``figures.json`` written by :func:`save_figures`."""
    path = Path(path)
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: cannot read report figures ({exc})") from None
    if not isinstance(figures, dict) or "figures" not in figures:
        raise ValidationError(f"{path}: not a figures.json written by a scheduled report")
    return figures


def _fmt(value: Any, kind: str) -> str:
    """A compared figure in the house format (:mod:`planning._format`)."""
    formats: dict[str, Callable[[Any], str]] = {
        "share": share,
        "count": count,
        "km": km,
        "ratio": ratio,
    }
    return formats[kind](value) if kind in formats else str(value)


#: Authority figures compared between reports: key -> (label, format); ``{deprived}`` is worded
#: from the current report's standards (:func:`_deprived_label`).
COMPARED_FIGURES: dict[str, tuple[str, str]] = {
    "under5": ("Under-5s", "count"),
    "idaci_children": (IDACI_CHILDREN_HEADING, "count"),
    "share_within_reach": ("Under-5s within reach", "share"),
    "share_deprived_within_reach": (
        "Under-5s in the {deprived} areas within reach",
        "share",
    ),
    "share_other_within_reach": ("Under-5s in other areas within reach", "share"),
    "share_within_short": ("Under-5s within 1 mile", "share"),
    "share_within_walk": ("Under-5s within the walking standard", "share"),
    "mean_distance_m": ("Mean distance to the nearest centre", "km"),
    "centres": ("Centres serving residents", "count"),
    "centres_outside_serving": ("Centres outside the authority serving residents", "count"),
    "under5_per_centre": ("Under-5s per centre", "count"),
    "centres_per_1000_under5": ("Centres per 1,000 under-5s", "ratio"),
    "centres_above_load_range": ("Centres above the load range", "count"),
    "centres_below_load_range": ("Centres below the load range", "count"),
}
_LOCALITY_FIGURES = {
    "under5": ("under-5s", "count"),
    "centres": ("centres", "count"),
    "share_within_reach": ("within reach", "share"),
    "share_deprived_within_reach": ("{deprived} within reach", "share"),
}
_INPUTS = {
    "centres_sha256": "Centres file",
    "standards_sha256": "Standards file",
    "data_sha256": "Embedded small-area data",
}


def _deprived_label(summary: Mapping[str, Any]) -> str:
    """'30% most deprived' (or a council's own wording) from a summary's standards."""
    deciles = summary.get("standards", {}).get("most_deprived_deciles")
    if not deciles:
        return Standards().deprived_label
    return Standards(most_deprived_deciles=tuple(int(d) for d in deciles)).deprived_label


def _rule(reason: str) -> str:
    """A reason with its numbers blanked: the rule it states ("Amber: # under-5s per centre...")."""
    return re.sub(r"\d[\d,.]*", "#", reason)


def _text_changes(
    add: Any, section: str, old: Sequence[str], new: Sequence[str], noun: str
) -> None:
    """Pair texts that state the same rule with different numbers; list the rest as gone/new."""
    gone = [t for t in old if t not in new]
    fresh = [t for t in new if t not in old]
    for text in list(gone):
        match = next((t for t in fresh if _rule(t) == _rule(text)), None)
        if match is not None:
            add(section, noun, text, match)
            gone.remove(text)
            fresh.remove(match)
    for text in gone:
        add(section, f"{noun} no longer applies", text, "")
    for text in fresh:
        add(section, f"New {noun.lower()}", "", text)


def compare_figures(previous: Mapping[str, Any], current: Mapping[str, Any]) -> pd.DataFrame:
    """What changed between two reports' figures: verdicts first, then what drove them.

    A figure counts as changed when its value *as displayed* differs (shares to 0.1 percentage
    point, counts to the unit), so floating-point noise never shows up as a change. Reasons that
    state the same rule with new numbers are paired into one row.

    Parameters
    ----------
    previous, current : mapping
        Figures from :func:`report_figures` (or :func:`load_figures`).

    Returns
    -------
    pandas.DataFrame
        Columns ``section``, ``item``, ``before``, ``after``; one row per change, empty when
        nothing changed. Sections, in order: Verdict (authority, then localities), How sure
        (whether each change of verdict is beyond the noise, when the figures carry
        ``verdict_probabilities``), Centres
        (opened, closed, moved, load status), Figures, Localities, Reasons, Standards, Inputs
        (file hashes), Data (vintages), Notes.
    """
    rows: list[tuple[str, str, str, str]] = []

    def add(section: str, item: str, before: str, after: str) -> None:
        if before != after:
            rows.append((section, item, before, after))

    add("Verdict", "Authority verdict", str(previous.get("verdict")), str(current.get("verdict")))
    old_loc, new_loc = previous.get("localities", {}), current.get("localities", {})
    localities = list(old_loc) + [n for n in new_loc if n not in old_loc]
    for name in localities:
        before, after = old_loc.get(name), new_loc.get(name)
        add(
            "Verdict",
            f"{name} locality verdict",
            str(before.get("rag")) if before else "no such locality",
            str(after.get("rag")) if after else "no longer a locality",
        )

    _noise(add, previous, current)

    old_c, new_c = previous.get("centres", {}), current.get("centres", {})
    for centre in list(old_c) + [c for c in new_c if c not in old_c]:
        before, after = old_c.get(centre), new_c.get(centre)
        label = f"{centre} {(after or before or {}).get('name') or ''}".strip()
        if before is None:
            locality = after.get("locality") or "no locality"
            add("Centres", label, "not listed", f"opened ({locality})")
            continue
        if after is None:
            add("Centres", label, f"listed ({before.get('locality') or 'no locality'})", "closed")
            continue
        moved = math.hypot(
            float(after.get("easting") or 0) - float(before.get("easting") or 0),
            float(after.get("northing") or 0) - float(before.get("northing") or 0),
        )
        if moved >= 1:
            add("Centres", f"{label}: location", "", f"moved {moved:,.0f} m")
        for key in ("locality", "kind", "load_status"):
            add(
                "Centres",
                f"{label}: {key.replace('_', ' ')}",
                str(before.get(key) or ""),
                str(after.get(key) or ""),
            )

    deprived = _deprived_label(current)
    old_fig, new_fig = previous.get("figures", {}), current.get("figures", {})
    for key, (label, kind) in COMPARED_FIGURES.items():
        if key in old_fig or key in new_fig:
            label = label.format(deprived=deprived)
            add("Figures", label, _fmt(old_fig.get(key), kind), _fmt(new_fig.get(key), kind))

    for name in localities:
        before, after = old_loc.get(name) or {}, new_loc.get(name) or {}
        for key, (label, kind) in _LOCALITY_FIGURES.items():
            add(
                "Localities",
                f"{name}: {label.format(deprived=deprived)}",
                _fmt(before.get(key), kind),
                _fmt(after.get(key), kind),
            )

    _text_changes(add, "Reasons", previous.get("reasons", []), current.get("reasons", []), "Reason")

    old_s, new_s = previous.get("standards", {}), current.get("standards", {})
    for key in list(old_s) + [k for k in new_s if k not in old_s]:
        if key != "source":
            add("Standards", key, json.dumps(old_s.get(key)), json.dumps(new_s.get(key)))

    old_in, new_in = previous.get("inputs", {}), current.get("inputs", {})
    for key, label in _INPUTS.items():
        before, after = old_in.get(key), new_in.get(key)
        add("Inputs", label, (before or "none")[:12], (after or "none")[:12])

    old_v, new_v = previous.get("data_vintages", {}), current.get("data_vintages", {})
    for key in list(old_v) + [k for k in new_v if k not in old_v]:
        add("Data", key, str(old_v.get(key, "")), str(new_v.get(key, "")))

    _text_changes(add, "Notes", previous.get("notes", []), current.get("notes", []), "Note")
    return pd.DataFrame(rows, columns=["section", "item", "before", "after"])


def _noise(
    add: Callable[[str, str, str, str], None],
    previous: Mapping[str, Any],
    current: Mapping[str, Any],
) -> None:
    """For each changed verdict, whether the change is beyond the noise: the earlier verdict's
    chance under this report's inputs, against :data:`NOISE_LEVEL` (section "How sure")."""
    chances = current.get("verdict_probabilities")
    if not chances:
        return
    draws = int(chances.get("draws", 0))
    pairs = [("Authority verdict", previous.get("verdict"), current.get("verdict"),
              chances.get("authority", {}))]  # fmt: skip
    old_loc, new_loc = previous.get("localities", {}), current.get("localities", {})
    for name, after in new_loc.items():
        before = old_loc.get(name)
        if before:
            pairs.append((f"{name} locality verdict", before.get("rag"), after.get("rag"),
                          chances.get("localities", {}).get(name, {})))  # fmt: skip
    for item, before, after, odds in pairs:
        if not before or before == after or str(before) not in odds:
            continue
        chance = float(odds[str(before)])
        shown = f"{100 * chance:.0f}%" if chance >= 0.005 else "under 1%"
        if chance < NOISE_LEVEL:
            text = (f"beyond the noise: {before} has a {shown} chance with this report's inputs "
                    f"({draws:,} draws)")  # fmt: skip
        else:
            text = (f"within the noise: {before} is still {shown} likely with this report's "
                    f"inputs ({draws:,} draws)")  # fmt: skip
        add("How sure", f"{item}: {before} -> {after}", "", text)


def _long_date(iso: str | None) -> str:
    try:
        return f"{dt.date.fromisoformat(str(iso)):%d %B %Y}"
    except ValueError:
        return str(iso)


_CHANGES_CSS = """<style>
.changes { border-left: 4px solid #2e86c1; background: #eaf2f8; padding: 6px 12px; margin: 10px 0; }
.changes h2 { margin-top: 0.3em; }
.changes table { border-collapse: collapse; font-size: 0.9em; }
.changes table td, .changes table th {
  border: 1px solid #ccc; padding: 3px 6px; text-align: left !important; vertical-align: top;
}
</style>"""


def changes_block(figures: Mapping[str, Any], *, previous: str | Path | None = None) -> Any:
    """The "What changed since the last report" section that opens a scheduled report.

    Parameters
    ----------
    figures : mapping
        This report's figures (:func:`report_figures`).
    previous : path, optional
        The previous report's ``figures.json``; ``None`` says there is nothing to compare with.
    """
    from IPython.display import HTML

    from planning._html import Markup, render
    from planning.outputs.report import rag_badge

    css = Markup(_CHANGES_CSS)
    if previous is None:
        return HTML(render("changes.html.j2", css=css, compared=False))
    before = load_figures(previous)
    table = compare_figures(before, figures)
    verdict = table[table["item"] == "Authority verdict"]
    localities = int((table["section"] == "Verdict").sum()) - len(verdict)
    return HTML(
        render(
            "changes.html.j2",
            css=css,
            compared=True,
            when=_long_date(before.get("report_date")),
            rows=[tuple(str(v) for v in row) for row in table.itertuples(index=False)],
            verdict_change=(
                (rag_badge(verdict.iloc[0]["before"]), rag_badge(verdict.iloc[0]["after"]))
                if len(verdict)
                else None
            ),
            verdict=rag_badge(str(figures.get("verdict"))),
            localities=localities,
        )
    )
