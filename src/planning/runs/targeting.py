"""The targeting run as planners and the ``planning target`` command use it.

``run_targeting`` loads an authority (and, optionally, a registration extract), computes gains of
area rankings, targeting errors, outreach allocations and, with registrations, fits and honestly
evaluates the targeting model; ``write_targeting_outputs`` writes the tables atomically;
``targeting_html`` gives a report section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planning import _format, settings
from planning._html import Markup, render
from planning.analysis.targeting import (
    ALLOCATION_RULES,
    RANKING_LABELS,
    OutreachModel,
    allocate_outreach,
    compare_outreach,
    gains_table,
    targeting_errors,
)
from planning.analysis.targeting_features import (
    LABEL_INPUTS,
    area_features,
    reach_labels,
    simple_rankings,
)
from planning.analysis.targeting_model import (
    TargetingEvaluation,
    TargetingModel,
    evaluate_targeting,
)

__all__ = [
    "TargetingRun",
    "model_evidence",
    "run_targeting",
    "targeting_html",
    "write_targeting_outputs",
]

#: Shares of areas at which gains are tabulated.
GAIN_SHARES = tuple(round(0.05 * k, 2) for k in range(1, 21))


@dataclass(frozen=True)
class TargetingRun:
    """Everything ``planning target`` computes (no row-level or small-area registration counts).

    Attributes
    ----------
    gains : DataFrame
        :func:`planning.analysis.targeting.gains_table` of IMD, IDACI, the need index and (with
        registrations) the model's out-of-fold score, at 5% steps.
    errors : DataFrame
        One row per targeting definition (the national 30% most deprived, and the top 30% of the
        authority's areas by each ranking): coverage, exclusion and inclusion errors.
    outreach : DataFrame
        :func:`planning.analysis.targeting.compare_outreach` at the level of localities, centres and
        small areas (column ``level``).
    allocation : DataFrame
        Hours per locality under each rule (column ``rule``).
    evaluation : TargetingEvaluation or None
    scores : DataFrame or None
        Per area: ``score`` (calibrated probability, model fitted on all areas),
        ``score_out_of_fold``, ``rank``, ``idaci_rank``, ``reasons``.
    model : TargetingModel or None
    notes : list of str
    provenance : dict
    """

    authority_code: str
    authority_name: str
    gains: pd.DataFrame
    errors: pd.DataFrame
    outreach: pd.DataFrame
    allocation: pd.DataFrame
    evaluation: TargetingEvaluation | None
    scores: pd.DataFrame | None
    model: TargetingModel | None
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)


def run_targeting(
    authority: str = settings.DEFAULT_AUTHORITY,
    *,
    registrations: str | Path | None = None,
    centres: str | Path | None = None,
    standards: str | Path | None = None,
    hours: float = 2_000.0,
    outreach_model: OutreachModel | None = None,
    target: str = "shortfall",
    as_of: dt.date | str | None = None,
    model: TargetingModel | None = None,
    run: Any = None,
) -> TargetingRun:
    """Gains, targeting errors and outreach for an authority; with registrations, the model.

    Parameters
    ----------
    authority, centres, standards
        As :func:`planning.runs.sufficiency.run_sufficiency`.
    registrations : path, optional
        A registration extract (:mod:`planning.runs.reach`); without it there is no model.
    hours : float
        Outreach hours to allocate (default 2,000: about one and a half full-time workers).
    outreach_model : OutreachModel, optional
    target : {'shortfall', 'unmet_need'}
        What the model predicts (:func:`planning.analysis.targeting_features.reach_labels`);
        features and baseline rankings sharing a factor with it are left out.
    as_of : date, optional
        The extract date.
    model : TargetingModel, optional
    run : planning.runs.sufficiency.SufficiencyRun, optional
        A sufficiency run already made (e.g. by the report), used instead of assessing again.
    """
    run, provenance, reach_areas, notes = _assess(
        authority,
        registrations=registrations,
        centres=centres,
        standards=standards,
        as_of=as_of,
        run=run,
    )
    areas = run.result.areas
    outreach_model = outreach_model or OutreachModel()

    evaluation = scores = fitted = None
    rankings: dict[str, Any] = {name: name for name in ("imd", "idaci", "need_index")}
    one_class = reach_areas is not None and reach_labels(reach_areas, target=target).nunique() < 2
    if one_class:
        notes.append(
            f"Targeting model not fitted: every area has the same '{target}' label, so there is "
            "nothing to learn or to evaluate (with the shortfall target, every area is on one side "
            "of the benchmark; try --target unmet_need)."
        )
    elif reach_areas is not None:
        evaluation, scores, fitted = _fit_model(areas, reach_areas, target=target, model=model)
        rankings["model"] = evaluation.predictions["model"].rename("model")
        synthetic = bool(provenance.get("registrations", {}).get("synthetic", False))
        notes.append(f"Targeting model: {evaluation.summary}")
        notes.append(f"What this is evidence of: {model_evidence(target, synthetic=synthetic)}")

    gains = gains_table(areas, rankings=rankings, shares=GAIN_SHARES)
    errors = _errors_table(areas, gains)
    outreach, allocation = _outreach_tables(areas, hours=hours, outreach_model=outreach_model)
    provenance["outreach_model"] = {
        "hours": hours,
        "families_per_hour": outreach_model.families_per_hour,
        "under5_per_family": outreach_model.under5_per_family,
        "hours_per_worker": outreach_model.hours_per_worker,
    }
    if evaluation is not None:
        provenance["model"] = _model_provenance(
            evaluation,
            fitted,
            target=target,
            synthetic=bool(provenance.get("registrations", {}).get("synthetic", False)),
        )
    return TargetingRun(
        authority_code=run.authority_code,
        authority_name=run.authority_name,
        gains=gains,
        errors=errors,
        outreach=outreach,
        allocation=allocation,
        evaluation=evaluation,
        scores=scores,
        model=fitted,
        notes=notes,
        provenance=provenance,
    )


def _assess(
    authority: str,
    *,
    registrations: str | Path | None,
    centres: str | Path | None,
    standards: str | Path | None,
    as_of: dt.date | str | None,
    run: Any,
) -> tuple[Any, dict[str, Any], pd.DataFrame | None, list[str]]:
    """The sufficiency run, provenance, reach areas (with registrations) and notes to start from."""
    from planning.runs.sufficiency import run_sufficiency

    if registrations is not None:
        from planning.runs.reach import run_reach

        reach_run = run_reach(
            authority, registrations, centres=centres, standards=standards, as_of=as_of, run=run
        )
        return (
            reach_run.sufficiency,
            dict(reach_run.provenance),
            reach_run.result.areas,
            list(reach_run.result.notes),
        )
    if run is None:
        run = run_sufficiency(authority, centres=centres, standards=standards)
    provenance = {
        "authority": {"code": run.authority_code, "name": run.authority_name},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "inputs": run.inputs,
    }
    return run, provenance, None, list(run.result.notes)


def _fit_model(
    areas: pd.DataFrame, reach_areas: pd.DataFrame, *, target: str, model: TargetingModel | None
) -> tuple[TargetingEvaluation, pd.DataFrame, TargetingModel]:
    """Evaluate the model out of fold, then fit it on all areas and score them (sorted by rank)."""
    # Neither the features nor the baseline rankings may share a factor with the label.
    features = area_features(areas, target=target)
    labels = reach_labels(reach_areas, target=target)
    # Folds keep a ward's areas together, so a neighbour cannot vouch for an area it is tested on.
    groups = areas["ward_code"] if "ward_code" in areas else areas.index.to_series()
    estimator = model or TargetingModel()
    evaluation = evaluate_targeting(
        features, labels, groups, baseline=simple_rankings(areas, target=target), model=estimator
    )
    # A fresh copy with the same parameters, so the caller's estimator is left unfitted.
    fitted = estimator.__class__(**estimator.get_params()).fit(features, labels, groups=groups)
    score = pd.Series(fitted.predict_proba(features)[:, 1], index=areas.index)
    scores = pd.DataFrame(
        {
            "area_name": areas.get("area_name", pd.Series(areas.index, index=areas.index)),
            "ward_name": areas.get("ward_name", pd.Series("", index=areas.index)),
            "locality": areas.get("locality", pd.Series("", index=areas.index)),
            "score": score,
            "score_out_of_fold": evaluation.predictions["model"],
            "rank": score.rank(ascending=False, method="first").astype(int),
            "idaci_rank": areas["idaci_children"]
            .div(areas["children_0_15"].where(areas["children_0_15"] > 0))
            .fillna(0.0)
            .rank(ascending=False, method="first")
            .astype(int),
            "reasons": fitted.reasons(features),
        }
    ).sort_values("rank")
    return evaluation, scores, fitted


def _errors_table(areas: pd.DataFrame, gains: pd.DataFrame) -> pd.DataFrame:
    """Targeting errors of the national 30% most deprived and of each ranking's top 30%."""
    error_rows = []
    if "imd_decile" in areas:
        national = areas["imd_decile"].astype(int) <= 3
        error_rows.append(
            {"targeting": "national 30% most deprived (IMD deciles 1-3)"}
            | targeting_errors(areas, national)
        )
    # The gains table already holds each ranking's errors at 30%; reuse them rather than recount.
    top30 = gains[np.isclose(gains["share_target"], 0.3)]
    for _, row in top30.iterrows():
        label = RANKING_LABELS.get(row["ranking"], "model score (out-of-fold)")
        error_rows.append(
            {"targeting": f"top 30% of the authority's areas by {label}"}
            | {k: row[k] for k in row.index if k not in ("ranking", "share_target")}
        )
    return pd.DataFrame(error_rows)


def _outreach_tables(
    areas: pd.DataFrame, *, hours: float, outreach_model: OutreachModel
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outreach compared at each level the areas support, and hours per locality by rule."""
    levels = [("locality", "locality"), ("centre", "centre_id"), ("small area", None)]
    outreach = pd.concat(
        [
            compare_outreach(areas, hours=hours, by=by, model=outreach_model).assign(level=level)
            for level, by in levels
            if by is None or by in areas
        ],
        ignore_index=True,
    )
    by = "locality" if "locality" in areas else None
    allocation = pd.concat(
        [
            allocate_outreach(areas, hours=hours, by=by, rule=rule, model=outreach_model)
            .assign(rule=rule)
            .reset_index()
            for rule in ALLOCATION_RULES
        ],
        ignore_index=True,
    )
    return outreach, allocation


def model_evidence(target: str, *, synthetic: bool) -> str:
    """What the model's evaluation is and is not evidence of, in words for the reports.

    On a synthetic extract (:mod:`planning.inputs.synthetic`) the labels follow a signal planted
    by the generator, so any result only shows that the code works end to end.
    """
    words = {
        "registered": "registered children",
        "under5": "under-5s",
        "idaci_children": "children in income-deprived families",
        "children_0_15": "children aged 0-15",
    }
    outcome = (
        "fall short of the reach benchmark"
        if target == "shortfall"
        else "be among those with the most estimated unmet need"
    )
    named = [words.get(c, c) for c in LABEL_INPUTS[target]]
    inputs = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    common = (
        f"the label is computed from {inputs} only, and no feature or baseline ranking shares a "
        "factor with those; the baseline is the best of the simple rankings on the training folds."
    )
    if synthetic:
        return (
            "the registrations are SYNTHETIC, with a planted signal: this shows that the code "
            "fits, evaluates and explains a model end to end, not that the model would beat "
            "the best simple ranking on a real extract. " + common[0].upper() + common[1:]
        )
    return (
        "an out-of-fold comparison on this authority's own registrations: evidence of which "
        f"areas are likely to {outcome} here and now, not of why (the model is associational), "
        "nor that it would rank as well in another authority or year. "
        + common[0].upper()
        + common[1:]
    )


def _model_provenance(
    evaluation: TargetingEvaluation,
    fitted: TargetingModel | None,
    *,
    target: str,
    synthetic: bool = False,
) -> dict[str, Any]:
    """What the model was, how it was evaluated and what it scored, for ``summary.json``."""
    return {
        "target": target,
        "label_inputs": list(LABEL_INPUTS[target]),
        "evidence": model_evidence(target, synthetic=synthetic),
        "baseline": {
            "ranking": evaluation.baseline_name,
            "chosen_per_fold": evaluation.baseline_choice,
            "candidates": evaluation.candidates.round(4).to_dict(orient="index"),
        },
        "auc_gain_interval_95": [round(v, 4) for v in evaluation.auc_gain_interval],
        "advantage_claimed": evaluation.advantage,
        "params": fitted.get_params() if fitted is not None else {},
        "features": fitted.features_ if fitted is not None else [],
        "coefficients_per_sd": fitted.coef_.round(4).to_dict() if fitted is not None else {},
        "folds": evaluation.folds,
        "groups": evaluation.groups,
        "metrics": evaluation.metrics.round(4).to_dict(orient="index"),
        "summary": evaluation.summary,
    }


def _pct(value: object) -> str:
    return _format.whole_share(value)


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    return {"kind": "table", "html": Markup(frame.to_html(classes="planning", border=0))}


def targeting_html(run: TargetingRun, *, top_areas: int = 10) -> str:
    """An HTML block (a ``<section>``) for a report: targeting errors, gains, outreach, model.

    Shows the share of the authority's under-5s in income-deprived families living outside its
    national 30% most deprived areas, the gains of each ranking at 10-50% of areas, expected
    outreach reach by rule (localities), and, when a model was fitted, its honest comparison with
    the best simple ranking, what that comparison is evidence of, and the areas it ranks highest with their reasons. Rendered from
    ``templates/html/report_section.html.j2`` (autoescaped).
    """
    parts: list[dict[str, Any]] = []
    if len(run.errors):
        parts += _errors_parts(run.errors)
    parts += _gains_parts(run.gains)
    parts += _outreach_parts(run.outreach)
    if run.evaluation is not None and run.scores is not None:
        model = run.provenance.get("model", {})
        evidence = str(model.get("evidence", ""))
        parts += _model_parts(run.evaluation, run.scores, top_areas=top_areas, evidence=evidence)
    return str(
        render(
            "report_section.html.j2",
            css_class="targeting",
            title=f"Targeting and outreach: {run.authority_name}",
            notes=run.notes,
            cards=[],
            parts=parts,
        )
    )


def _errors_parts(errors: pd.DataFrame) -> list[dict[str, Any]]:
    """The first definition's exclusion and inclusion errors in words, then every definition's."""
    first = errors.iloc[0]
    sentence = {
        "kind": "paragraph",
        "text": f"{_pct(first['exclusion_error'])} of under-5s in income-deprived families "
        f"({_format.count(first['in_need_missed'])} of {_format.count(first['in_need_total'])})"
        f" live outside the {first['targeting']}; {_pct(first['inclusion_error'])} of "
        "under-5s inside them are not in income-deprived families.",
    }
    show = pd.DataFrame(
        {
            "Areas": errors["areas_targeted"].astype(int),
            "Under-5s in need found": errors["coverage"].map(_pct),
            "Missed (exclusion error)": errors["exclusion_error"].map(_pct),
            "Not in need (inclusion error)": errors["inclusion_error"].map(_pct),
        }
    )
    show.index = errors["targeting"].to_numpy()
    return [sentence, _table(show)]


def _gains_parts(gains: pd.DataFrame) -> list[dict[str, Any]]:
    """Coverage of each ranking at 10%, 20%, 30% and 50% of areas, one column per ranking."""
    wide = gains[gains["share_target"].isin([0.1, 0.2, 0.3, 0.5])].pivot(
        index="share_target", columns="ranking", values="coverage"
    )
    wide.index = [f"top {_format.whole_share(p)} of areas" for p in wide.index]
    wide.columns = [RANKING_LABELS.get(c, "model score") for c in wide.columns]
    return [
        {
            "kind": "heading",
            "text": "Share of under-5s in income-deprived families in the targeted areas",
        },
        _table(wide.map(_pct)),
    ]


def _outreach_parts(outreach: pd.DataFrame) -> list[dict[str, Any]]:
    """Families in need reached by each rule at the first (coarsest) level, saturating model."""
    local = outreach[
        (outreach["level"] == outreach["level"].iloc[0]) & (outreach["reach_model"] == "saturating")
    ]
    show = pd.DataFrame(
        {
            "Families in need reached": local["in_need_reached"].map(_format.count),
            "Per 100 hours": local["reached_per_100_hours"].map(lambda v: _format.number(v, 1)),
        }
    )
    show.index = local["rule"].to_numpy()
    return [
        {
            "kind": "heading",
            "text": f"Outreach: {_format.count(local['hours'].iloc[0])} hours split between "
            f"{outreach['level'].iloc[0]} groups",
        },
        _table(show),
        {
            "kind": "paragraph",
            "text": "Reach model: contacts = hours x families per hour, falling at random on the "
            "group's families (expected in-need reached = in need x (1 - exp(-contacts / "
            "families))).",
        },
    ]


def _model_parts(
    evaluation: TargetingEvaluation, scores: pd.DataFrame, *, top_areas: int, evidence: str
) -> list[dict[str, Any]]:
    """The model's honest metrics against the baseline, and its top areas with their reasons."""
    top = scores.head(top_areas)
    show = pd.DataFrame(
        {
            "Area": top["area_name"],
            "Ward": top["ward_name"],
            "Score": top["score"].map(_pct),
            "Why": top["reasons"],
        }
    )
    candidates = evaluation.candidates.rename(
        columns={"auc": "ROC AUC out of fold", "folds_chosen": "Folds chosen as baseline"}
    )
    return [
        {"kind": "heading", "text": "Targeting model"},
        {"kind": "paragraph", "text": evaluation.summary},
        {"kind": "paragraph", "text": f"What this is evidence of: {evidence}"},
        _table(evaluation.metrics[["auc", "average_precision", "brier", "capture_top"]].round(3)),
        {"kind": "heading", "text": "Simple rankings tried as the baseline"},
        _table(candidates.round(3)),
        _table(show),
    ]


def write_targeting_outputs(
    run: TargetingRun,
    out: str | Path,
    *,
    inputs: Sequence[str | Path | None] = (),
    force: bool = False,
) -> Path:
    """Write ``gains.csv``, ``targeting_errors.csv``, ``outreach.csv``,
    ``outreach_allocation.csv``, ``scores.csv`` (with a model), ``summary.json`` and
    ``targeting.html`` into ``out``, atomically. No registration count is written.

    ``out`` is replaced only if it is empty or an earlier output of this tool (or with
    ``force``), and never if it holds one of ``inputs``: :func:`planning._files.atomic_directory`.
    """
    from planning._files import atomic_directory, write_json
    from planning.inputs.safe_csv import write_csv

    out = Path(out)
    with atomic_directory(out, inputs=inputs, force=force, kind="targeting") as staging:
        write_csv(run.gains, staging / "gains.csv", index=False)
        write_csv(run.errors, staging / "targeting_errors.csv", index=False)
        write_csv(run.outreach, staging / "outreach.csv", index=False)
        write_csv(run.allocation, staging / "outreach_allocation.csv", index=False)
        if run.scores is not None:
            write_csv(run.scores, staging / "scores.csv", index_label="area_code")
        summary = {
            **run.provenance,
            "targeting_errors": run.errors.to_dict(orient="records"),
            "notes": run.notes,
        }
        write_json(staging / "summary.json", summary)
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Targeting</title></head>"
            f"<body>{targeting_html(run)}</body></html>"
        )
        (staging / "targeting.html").write_text(page, encoding="utf-8")
    return out
