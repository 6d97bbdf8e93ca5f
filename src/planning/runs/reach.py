"""The reach run: read a registrations extract, assess reach, and publish and write its tables.

Registration extracts are read by :mod:`planning.inputs.registrations` (counts per small area, no
row-level data kept); :mod:`planning.runs.reach_assessment` turns the counts into reach per small
area, centre, locality, deprivation band, ward and target group (the measures are listed there),
and :mod:`planning.runs.reach_publication` publishes them through disclosure control
(:func:`publish_reach`). This module holds the run (:func:`run_reach`), the report section
(:func:`reach_html`) and the written outputs (:func:`write_reach_outputs`), and re-exports the
other two modules' public names, so the whole reach API is imported from here.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planning import _format, settings
from planning._errors import ValidationError
from planning._html import Markup, render
from planning.analysis.disclosure import describe_count
from planning.analysis.disclosure import protect_counts as protect_counts  # for older importers
from planning.inputs.registration_columns import TARGET_GROUPS
from planning.inputs.registrations import (
    AGE_BANDS,
    DEFAULT_SUSTAINED_CONTACTS,
    RegistrationCounts,
    read_registrations,
    registration_counts,
)
from planning.runs.reach_assessment import (
    GOOD_BENCHMARK,
    REACH_BANDS,
    ReachResult,
    assess_reach,
    reach_band,
    wilson_interval,
)
from planning.runs.reach_publication import PublishedReach, publish_reach

logger = logging.getLogger(__name__)

__all__ = [
    "AGE_BANDS",
    "REACH_BANDS",
    "TARGET_GROUPS",
    "PublishedReach",
    "ReachResult",
    "ReachRun",
    "RegistrationCounts",
    "assess_reach",
    "publish_reach",
    "reach_band",
    "reach_html",
    "read_registrations",
    "registration_counts",
    "run_reach",
    "wilson_interval",
    "write_reach_outputs",
]


def _pct(value: object) -> str:
    return _format.whole_share(value, missing="withheld")


def _count(value: object) -> str:
    return _format.count(value, missing="withheld")


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    return {"kind": "table", "html": Markup(frame.to_html(classes="planning", border=0))}


def reach_html(published: PublishedReach, *, title: str = "Reach from registrations") -> str:
    """An HTML block (a ``<section>``) for a report: headline reach, tables, notes.

    Built only from a :class:`PublishedReach`, so it shows nothing disclosure control withheld,
    and rendered from ``templates/html/report_section.html.j2`` (autoescaped). Tables: reach by
    locality and deprivation band, and sustained engagement by target group for the authority.
    Classes follow the sufficiency report (``planning``, ``note``, ``cards``).

    Examples
    --------
    In a notebook::

        from IPython.display import HTML
        HTML(reach_html(publish_reach(assess_reach(counts, run.result.areas))))
    """
    a = published.authority
    cards = [
        (_pct(a.get("reach")), "of under-5s registered with a centre"),
        (_pct(a.get("sustained_reach")), "of under-5s with sustained engagement"),
        (str(a.get("reach_band") or "withheld"), "reach band (DOMAIN.md)"),
    ]
    bands = published.tables.get("bands")
    if bands is not None and "0-30%" in bands.index:
        cards.append(
            (_pct(bands.loc["0-30%", "reach"]), "registered in the 30% most deprived areas")
        )
    parts: list[dict[str, Any]] = []

    def table(frame: pd.DataFrame, name: str) -> dict[str, Any]:
        show = pd.DataFrame(
            {
                "Under-5s": frame["under5"].map(_count),
                "Registered": frame["registered"].map(_count),
                "Reach": frame["reach"].map(_pct),
                "95% interval": [
                    "withheld" if pd.isna(lo) else f"{100 * lo:.0f}-{100 * hi:.0f}%"
                    for lo, hi in zip(frame["reach_low"], frame["reach_high"])
                ],
                "Band": frame["reach_band"].fillna("withheld"),
                "Sustained engagement": frame["sustained_reach"].map(_pct),
            },
            index=frame.index,
        )
        show.index.name = name
        return _table(show)

    for key, name in (("localities", "Locality"), ("bands", "Deprivation band (national)")):
        if key in published.tables:
            parts.append({"kind": "heading", "text": f"Reach by {name.lower()}"})
            parts.append(table(published.tables[key], name))
    target = published.tables.get("target_groups")
    if target is not None and len(target):
        own = target[target["level"] == "authority"]
        show = pd.DataFrame(
            {
                "Registered": own["registered"].map(_count),
                "Share of registrations": own["share_of_registered"].map(_pct),
                "Sustained engagement": own["sustained_share"].map(_pct),
            }
        )
        show.index = own["label"].to_numpy()
        show.index.name = "Target group"
        parts += [{"kind": "heading", "text": "Target groups (authority)"}, _table(show)]
    parts.append(
        {
            "kind": "paragraph",
            "text": "Reach = registered children living in the area / resident under-5s (ONS). Bands: "
            "90%+ almost all, 75-90% most, 50-75% majority, below 50% minority; the 'good' "
            f"benchmark is {_format.whole_share(GOOD_BENCHMARK)}. Counts below "
            f"{published.threshold} are withheld.",
        }
    )
    return str(
        render(
            "report_section.html.j2",
            css_class="reach",
            title=title,
            notes=published.notes,
            cards=cards,
            parts=parts,
        )
    )


def write_reach_outputs(
    published: PublishedReach,
    out: str | Path,
    *,
    provenance: Mapping[str, Any] | None = None,
    inputs: Sequence[str | Path | None] = (),
    force: bool = False,
) -> Path:
    """Write the published reach tables into ``out`` atomically.

    ``out`` is replaced only if it is empty or an earlier output of this tool (or with
    ``force``), and never if it holds one of ``inputs`` (the extract, centres, standards):
    :func:`planning._files.atomic_directory`.

    Files: ``areas.csv``, ``centres.csv``, ``localities.csv``, ``deprivation_bands.csv``,
    ``wards.csv`` (each with a final ``All`` row), ``target_groups.csv``, ``ages.csv``,
    ``summary.json`` and ``reach.html``. Only :class:`PublishedReach` tables are written: no
    row-level data, no withheld count.
    """
    from planning._files import atomic_directory, write_json
    from planning.inputs.safe_csv import write_csv

    names = {"bands": "deprivation_bands"}
    out = Path(out)
    with atomic_directory(out, inputs=inputs, force=force, kind="reach") as staging:
        for key, frame in published.tables.items():
            frame = frame.drop(columns=["geometry"], errors="ignore")
            write_csv(frame, staging / f"{names.get(key, key)}.csv", index=key != "target_groups")
        summary = {
            "figures": dict(published.authority),
            "threshold": published.threshold,
            "withheld": published.withheld,
            "disclosure": published.disclosure,
            "notes": published.notes,
            **(dict(provenance) if provenance else {}),
        }
        write_json(staging / "summary.json", summary)
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reach</title></head><body>"
            + reach_html(published)
            + "</body></html>"
        )
        (staging / "reach.html").write_text(page, encoding="utf-8")
    return out


@dataclass(frozen=True)
class ReachRun:
    """A reach result with the sufficiency run that placed each area, and provenance."""

    result: ReachResult
    sufficiency: Any  # planning.runs.sufficiency.SufficiencyRun
    provenance: dict[str, Any]


def run_reach(
    authority: str = settings.DEFAULT_AUTHORITY,
    registrations: str | Path | None = None,
    *,
    centres: str | Path | None = None,
    standards: str | Path | None = None,
    sustained_contacts: int = DEFAULT_SUSTAINED_CONTACTS,
    as_of: dt.date | str | None = None,
    run: Any = None,
) -> ReachRun:
    """Load an authority, assess sufficiency (for catchments), read an extract, assess reach.

    Parameters are those of :func:`planning.runs.sufficiency.run_sufficiency` and
    :func:`read_registrations`; ``run``, a :class:`planning.runs.sufficiency.SufficiencyRun` already
    made (e.g. by the report), is used instead of assessing again. The provenance records the
    extract's file name and SHA-256 (not its folder or contents).
    """
    from planning.runs.sufficiency import run_sufficiency

    if registrations is None:
        raise ValidationError("give a registration extract (--registrations FILE)")
    if run is None:
        run = run_sufficiency(authority, centres=centres, standards=standards)
    counts = read_registrations(
        registrations, run.result.areas, sustained_contacts=sustained_contacts, as_of=as_of
    )
    if counts.rows_outside:
        # Warnings can end up in published reports: the count is described, never given.
        warnings.warn(
            f"{counts.source}: {describe_count(counts.rows_outside)} registrations are of "
            "children living outside the authority; they are left out of reach, whose "
            "denominator is the authority's resident under-5s",
            UserWarning,
            stacklevel=2,
        )
    result = assess_reach(counts, run.result.areas)
    result.notes.extend(run.result.notes)
    provenance = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "registrations": {
            "file": counts.source,
            "sha256": counts.sha256,
            "as_of": counts.as_of.isoformat(),
            "synthetic": counts.synthetic,
            # No registration counts here: provenance is published (reach and targeting
            # summaries), and the protected figures say how many were counted.
            "sustained_contacts": counts.sustained_contacts,
            "target_groups": list(counts.groups),
        },
        "inputs": run.inputs,
    }
    return ReachRun(result=result, sufficiency=run, provenance=provenance)
