"""The targeting model's features and labels, and the rule that keeps them apart.

What :class:`~planning.analysis.targeting_model.TargetingModel` learns from and predicts: the
area features anyone can see (:data:`FEATURES`: deprivation domains, distance to the nearest
centre, rural-urban class, under-5 counts; :func:`area_features`), the simple rankings it is
compared with (:data:`SIMPLE_RANKINGS`, :func:`simple_rankings`) and the binary labels it
predicts from registration-derived reach (:data:`TARGETS`, :func:`reach_labels`). Fitting and
evaluating the model is :mod:`planning.analysis.targeting_model`.

Not circular: the quantities each label is computed from are declared once
(:data:`LABEL_INPUTS`), each area column is mapped to the underlying quantities it is built from
(:data:`FACTORS`), and no feature or baseline ranking sharing one of them with the label is used
(:func:`shared_factors`, :func:`admissible`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning.analysis.need import idaci_rate, under5_income_deprived

__all__ = [
    "FACTORS",
    "FEATURES",
    "LABEL_INPUTS",
    "SIMPLE_RANKINGS",
    "TARGETS",
    "Feature",
    "admissible",
    "area_features",
    "reach_labels",
    "shared_factors",
    "simple_rankings",
]


def _domain(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda a: a[column].astype(float)


@dataclass(frozen=True)
class Feature:
    """One area feature: what it is called in reasons, the columns it needs, how it is computed
    and how a value is shown to a planner."""

    label: str
    needs: tuple[str, ...]
    compute: Callable[[pd.DataFrame], pd.Series]
    show: Callable[[float], str] = lambda v: f"{v:.2f}"


def _score(column: str, label: str) -> Feature:
    return Feature(label, (column,), _domain(column))


#: Area features the model can use (IoD2025 domain scores, distance, rural, counts).
FEATURES: dict[str, Feature] = {
    "idaci_rate": Feature(
        "share of children in income-deprived families (IDACI)",
        ("idaci_children", "children_0_15"),
        idaci_rate,
        lambda v: f"{v:.0%}",
    ),
    "income_score": _score("income_score", "income deprivation score"),
    "employment_score": _score("employment_score", "employment deprivation score"),
    "education_score": _score("education_score", "education and skills deprivation score"),
    "health_score": _score("health_score", "health deprivation score"),
    "crime_score": _score("crime_score", "crime score"),
    "housing_and_services_score": _score(
        "housing_and_services_score", "barriers to housing and services score"
    ),
    "environment_score": _score("environment_score", "living environment deprivation score"),
    "distance_km": Feature(
        "distance to the nearest centre",
        ("distance_m",),
        lambda a: a["distance_m"].astype(float) / 1000.0,
        lambda v: f"{v:.1f} km",
    ),
    "rural": Feature(
        "rural area", ("rural",), lambda a: a["rural"].astype(float), lambda v: f"{v:.0%} rural"
    ),
    "log_under5": Feature(
        "number of under-5s",
        ("under5",),
        lambda a: np.log1p(a["under5"].astype(float)),
        lambda v: f"{np.expm1(v):,.0f}",
    ),
    "log_in_need": Feature(
        "number of under-5s in income-deprived families",
        ("under5", "idaci_children", "children_0_15"),
        lambda a: np.log1p(under5_income_deprived(a)),
        lambda v: f"{np.expm1(v):,.0f}",
    ),
}


_DOMAINS = {
    "income_score": "income deprivation",
    "employment_score": "employment deprivation",
    "education_score": "education deprivation",
    "health_score": "health deprivation",
    "crime_score": "crime",
    "housing_and_services_score": "barriers to housing and services",
    "environment_score": "living environment",
}

#: The underlying quantities each area column is built from. Two columns *share a factor* when
#: their sets meet: IDACI's income-deprived children are counted in the IoD income domain, and
#: the IMD score is a weighted sum of all seven domains, so both share "income deprivation".
#: A column not listed is its own single factor.
FACTORS: dict[str, frozenset[str]] = {
    "registered": frozenset({"registrations"}),
    "reach": frozenset({"registrations", "under-5 population"}),
    "under5": frozenset({"under-5 population"}),
    "children_0_15": frozenset({"child population"}),
    "idaci_children": frozenset({"income deprivation"}),
    "under5_income_deprived": frozenset(
        {"under-5 population", "child population", "income deprivation"}
    ),
    **{column: frozenset({domain}) for column, domain in _DOMAINS.items()},
    "imd_score": frozenset(_DOMAINS.values()),
    "imd_decile": frozenset(_DOMAINS.values()),
    # The need index (packaged weights) mixes in-need under-5s, the IMD score and all under-5s.
    "need_index": frozenset({"under-5 population", "child population", *_DOMAINS.values()}),
    "distance_m": frozenset({"centre locations"}),
    "rural": frozenset({"rural-urban class"}),
}

#: The area columns each label is computed from: the one place they are declared
#: (:func:`reach_labels`; ``reach = registered / under5`` from :mod:`planning.runs.reach`).
LABEL_INPUTS: dict[str, tuple[str, ...]] = {
    "shortfall": ("registered", "under5"),
    "unmet_need": ("registered", "under5", "idaci_children", "children_0_15"),
}


def shared_factors(columns: tuple[str, ...] | list[str], target: str) -> set[str]:
    """The underlying quantities the ``columns`` share with the ``target`` label (empty: none).

    Examples
    --------
    >>> sorted(shared_factors(("under5",), "shortfall"))
    ['under-5 population']
    >>> shared_factors(("distance_m",), "shortfall")
    set()
    """
    if target not in LABEL_INPUTS:
        raise ValidationError(f"unknown target '{target}'; valid: {', '.join(LABEL_INPUTS)}")

    def factors(names: tuple[str, ...] | list[str]) -> set[str]:
        return set().union(*(FACTORS.get(n, frozenset({n})) for n in names))

    return factors(columns) & factors(LABEL_INPUTS[target])


def admissible(target: str, specs: dict[str, Feature] | None = None) -> list[str]:
    """Names in ``specs`` (default :data:`FEATURES`) sharing no factor with the ``target`` label.

    A feature computed from a quantity the label is computed from (e.g. the number of under-5s,
    the denominator of reach) would find the label by construction; it is never used.

    Examples
    --------
    >>> "log_under5" in admissible("shortfall"), "distance_km" in admissible("shortfall")
    (False, True)
    """
    specs = FEATURES if specs is None else specs
    return [n for n, f in specs.items() if not shared_factors(f.needs, target)]


def area_features(
    areas: pd.DataFrame, *, features: list[str] | None = None, target: str | None = None
) -> pd.DataFrame:
    """The model's features for each area, from the columns the areas have.

    Parameters
    ----------
    areas : DataFrame
        Small areas; a sufficiency result's areas (``run_sufficiency(...).result.areas``) have
        ``distance_m`` too.
    features : list of str, optional
        Names from :data:`FEATURES`; default every feature whose columns are present (and, with
        ``target``, that shares no factor with that label).
    target : {'shortfall', 'unmet_need'}, optional
        The label the features will predict: features sharing a factor with it
        (:func:`shared_factors`) are left out by default and refused when asked for.

    Returns
    -------
    DataFrame
        Aligned to ``areas.index``, one column per feature.
    """
    allowed = list(FEATURES) if target is None else admissible(target)
    if features is None:
        names = [n for n in allowed if set(FEATURES[n].needs) <= set(areas.columns)]
    else:
        unknown = [n for n in features if n not in FEATURES]
        if unknown:
            raise ValidationError(
                f"unknown feature(s) {', '.join(unknown)}; valid: {', '.join(FEATURES)}"
            )
        circular = [n for n in features if n not in allowed]
        if circular and target is not None:
            detail = "; ".join(
                f"{n} shares {', '.join(sorted(shared_factors(FEATURES[n].needs, target)))}"
                for n in circular
            )
            raise ValidationError(
                f"feature(s) share a factor with the '{target}' label, which is computed from "
                f"{', '.join(LABEL_INPUTS[target])}: {detail}; drop them"
            )
        missing = {n: [c for c in FEATURES[n].needs if c not in areas] for n in features}
        missing = {n: m for n, m in missing.items() if m}
        if missing:
            detail = "; ".join(f"{n} needs {', '.join(m)}" for n, m in missing.items())
            raise ValidationError(f"areas lack columns for features: {detail}")
        names = list(features)
    if not names:
        raise ValidationError("areas have none of the columns the targeting features need")
    return pd.DataFrame({n: FEATURES[n].compute(areas) for n in names}, index=areas.index)


def _need_index(areas: pd.DataFrame) -> pd.Series:
    if "need_index" in areas:
        return areas["need_index"].astype(float)
    from planning.analysis.need import need_index

    return need_index(areas)


#: Simple rankings the baseline is chosen from: every feature alone, the IMD score and the need
#: index (each tried in both directions on the training folds).
SIMPLE_RANKINGS: dict[str, Feature] = {
    **FEATURES,
    "imd": Feature("IMD score", ("imd_score",), _domain("imd_score")),
    "need_index": Feature("need index", ("need_index",), _need_index),
}


def simple_rankings(areas: pd.DataFrame, *, target: str) -> pd.DataFrame:
    """Scores of every simple ranking the areas support that shares no factor with ``target``.

    Candidates for the baseline of :func:`~planning.analysis.targeting_model.evaluate_targeting`:
    one column per name in :data:`SIMPLE_RANKINGS` (``need_index`` when the areas have it).
    """
    names = [
        n
        for n in admissible(target, SIMPLE_RANKINGS)
        if set(SIMPLE_RANKINGS[n].needs) <= set(areas.columns)
    ]
    scores = pd.DataFrame({n: SIMPLE_RANKINGS[n].compute(areas) for n in names}, index=areas.index)
    # A column with one value (e.g. rural in an all-urban authority) ranks nothing.
    scores = scores.loc[:, scores.nunique() > 1]
    if scores.empty:
        raise ValidationError(
            f"areas have no varying column for a simple ranking independent of the '{target}' label"
        )
    return scores


def _unmet(reach_areas: pd.DataFrame) -> pd.Series:
    reach = reach_areas["reach"].astype(float).clip(upper=1.0).fillna(0.0)
    return reach_areas["under5_income_deprived"].astype(float) * (1.0 - reach)


#: What "shortfall" means for the label: name -> description.
TARGETS: dict[str, str] = {
    "shortfall": "area whose reach (registered / under-5s) is below the benchmark",
    "unmet_need": (
        "area among the top_share of areas by estimated unmet need: under-5s in income-deprived "
        "families times (1 - reach)"
    ),
}


def reach_labels(
    reach_areas: pd.DataFrame,
    *,
    target: str = "shortfall",
    benchmark: float = 0.65,
    top_share: float = 0.3,
) -> pd.Series:
    """Binary labels from registration-derived reach per area.

    Parameters
    ----------
    reach_areas : DataFrame
        :attr:`planning.runs.reach_assessment.ReachResult.areas` (``reach``, ``under5_income_deprived``).
    target : {'shortfall', 'unmet_need'}
        ``shortfall`` (default): 1 where ``reach = registered / under5 < benchmark`` (default
        65%, the "good" benchmark); computed from registrations and under-5s only.
        ``unmet_need``: 1 for the ``top_share`` of areas with the most estimated unmet need,
        ``under5_income_deprived * (1 - min(reach, 1))`` (in-need under-5s assumed registered at
        the area's overall rate); it is mostly the count of in-need under-5s, so IDACI, income
        and under-5 features are excluded when predicting it. Inputs: :data:`LABEL_INPUTS`.
    """
    if target not in TARGETS:
        raise ValidationError(f"unknown target '{target}'; valid: {', '.join(TARGETS)}")
    if target == "shortfall":
        return (reach_areas["reach"].astype(float) < benchmark).astype(int).rename("shortfall")
    unmet = _unmet(reach_areas)
    k = max(1, int(np.ceil(top_share * len(unmet) - 1e-9)))
    top = unmet.rank(ascending=False, method="first") <= k
    return top.astype(int).rename("unmet_need")
