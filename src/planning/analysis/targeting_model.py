"""A targeting model: which small areas are likely to have a reach shortfall or unmet need.

Trained on registration-derived reach (:mod:`planning.runs.reach`) with area features anyone can see
(deprivation domains, distance to the nearest centre, rural-urban class, under-5 counts), it
scores every area, including those whose own registrations are too few to trust, and says why.

Honest evaluation (:func:`evaluate_targeting`): spatially grouped cross-validation (areas of one
ward are never split between training and testing, so neighbouring areas cannot leak into the
test), compared with the simple baseline of ranking areas by their IDACI rate. The model's
scores are calibrated probabilities (isotonic regression on out-of-fold scores), and each
area's reasons come from the per-feature contributions of the linear model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from planning._errors import ValidationError
from planning.analysis.need import idaci_rate, under5_income_deprived

__all__ = [
    "FEATURES",
    "TARGETS",
    "Feature",
    "TargetingEvaluation",
    "TargetingModel",
    "area_features",
    "evaluate_targeting",
    "reach_labels",
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


def area_features(areas: pd.DataFrame, *, features: list[str] | None = None) -> pd.DataFrame:
    """The model's features for each area, from the columns the areas have.

    Parameters
    ----------
    areas : DataFrame
        Small areas; a sufficiency result's areas (``run_sufficiency(...).result.areas``) have
        ``distance_m`` too.
    features : list of str, optional
        Names from :data:`FEATURES`; default every feature whose columns are present.

    Returns
    -------
    DataFrame
        Aligned to ``areas.index``, one column per feature.
    """
    if features is None:
        names = [n for n, f in FEATURES.items() if set(f.needs) <= set(areas.columns)]
    else:
        unknown = [n for n in features if n not in FEATURES]
        if unknown:
            raise ValidationError(
                f"unknown feature(s) {', '.join(unknown)}; valid: {', '.join(FEATURES)}"
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


def _unmet(reach_areas: pd.DataFrame) -> pd.Series:
    reach = reach_areas["reach"].astype(float).clip(upper=1.0).fillna(0.0)
    return reach_areas["under5_income_deprived"].astype(float) * (1.0 - reach)


#: What "shortfall" means for the label: name -> description.
TARGETS: dict[str, str] = {
    "unmet_need": (
        "area among the top_share of areas by estimated unmet need: under-5s in income-deprived "
        "families times (1 - reach)"
    ),
    "shortfall": "area whose reach (registered / under-5s) is below the benchmark",
}


def reach_labels(
    reach_areas: pd.DataFrame,
    *,
    target: str = "unmet_need",
    benchmark: float = 0.65,
    top_share: float = 0.3,
) -> pd.Series:
    """Binary labels from registration-derived reach per area.

    Parameters
    ----------
    reach_areas : DataFrame
        :attr:`planning.runs.reach.ReachResult.areas` (``reach``, ``under5_income_deprived``).
    target : {'unmet_need', 'shortfall'}
        ``unmet_need``: 1 for the ``top_share`` of areas with the most estimated unmet need,
        ``under5_income_deprived * (1 - min(reach, 1))`` (in-need under-5s assumed registered at
        the area's overall rate). ``shortfall``: 1 where ``reach < benchmark`` (default 65%, the
        "good" benchmark).
    """
    if target not in TARGETS:
        raise ValidationError(f"unknown target '{target}'; valid: {', '.join(TARGETS)}")
    if target == "shortfall":
        return (reach_areas["reach"].astype(float) < benchmark).astype(int).rename("shortfall")
    unmet = _unmet(reach_areas)
    k = max(1, int(np.ceil(top_share * len(unmet) - 1e-9)))
    top = unmet.rank(ascending=False, method="first") <= k
    return top.astype(int).rename("unmet_need")


def _splitter(y: np.ndarray, groups: np.ndarray | None, n_splits: int) -> Any:
    if groups is not None:
        return GroupKFold(n_splits=max(2, min(n_splits, len(np.unique(groups)))))
    smallest = int(np.bincount(y.astype(int)).min())
    return StratifiedKFold(n_splits=max(2, min(n_splits, smallest)))


class TargetingModel(ClassifierMixin, BaseEstimator):
    """Calibrated logistic model of an area's chance of a reach shortfall or high unmet need.

    ``score = isotonic(w . z(x) + b)``: a logistic regression on standardised features ``z``,
    whose decision values are calibrated by isotonic regression fitted on *out-of-fold* decision
    values (folds grouped by ward when groups are given), so a score of 0.3 means about 30% of
    such areas have the shortfall.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    calibration : {'isotonic', 'sigmoid', 'none'}
        How decision values become probabilities.
    n_splits : int
        Folds for the out-of-fold calibration.

    Attributes
    ----------
    features_ : list of str
        Features used (constant columns are dropped at fit).
    pipeline_ : sklearn Pipeline
        Scaler and logistic regression fitted on all data.
    calibrator_ : fitted calibrator or None
    coef_ : Series
        Log-odds per standard deviation of each feature.
    mean_, scale_ : Series
        Feature means and standard deviations (the "average area" reasons compare with).
    classes_ : ndarray
        ``[0, 1]``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(
    ...     {"distance_km": rng.uniform(0, 3, 200), "idaci_rate": rng.uniform(0, .5, 200)}
    ... )
    >>> y = (X["distance_km"] + rng.normal(0, .5, 200) > 1.5).astype(int)
    >>> model = TargetingModel().fit(X, y)
    >>> bool(model.coef_["distance_km"] > 0)
    True
    """

    def __init__(self, C: float = 1.0, calibration: str = "isotonic", n_splits: int = 5) -> None:
        self.C = C
        self.calibration = calibration
        self.n_splits = n_splits

    def _validate(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        if not isinstance(X, pd.DataFrame):
            raise ValidationError("X must be a DataFrame of features (see area_features)")
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValidationError(
                f"calibration must be 'isotonic', 'sigmoid' or 'none', not {self.calibration!r}"
            )
        labels = np.asarray(y).astype(int)
        if len(labels) != len(X):
            raise ValidationError(f"y has {len(labels)} labels for {len(X)} areas")
        if set(np.unique(labels)) != {0, 1}:
            raise ValidationError(
                "y must hold both 0 and 1: the labels need areas with and without a shortfall"
            )
        if X.isna().any().any():
            bad = X.columns[X.isna().any()].tolist()
            raise ValidationError(f"features have blanks in {', '.join(bad)}; fill or drop them")
        return X, labels

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            [("scale", StandardScaler()), ("logistic", LogisticRegression(C=self.C, max_iter=1000))]
        )

    def fit(self, X: pd.DataFrame, y: Any, groups: Any = None) -> TargetingModel:
        """Fit on features ``X`` and 0/1 labels ``y``; ``groups`` (e.g. ward codes) keep
        neighbouring areas together in the calibration folds."""
        # A few hundred areas: BLAS threads only add contention (10x slower on a busy machine).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y, groups)

    def _fit(self, X: pd.DataFrame, y: Any, groups: Any) -> TargetingModel:
        X, labels = self._validate(X, y)
        varying = [c for c in X.columns if X[c].nunique() > 1]
        if not varying:
            raise ValidationError("every feature is constant across the areas; nothing to learn")
        self.features_ = varying
        data = X[varying].to_numpy(dtype=float)
        self.classes_ = np.array([0, 1])
        self.pipeline_ = self._pipeline().fit(data, labels)
        self.calibrator_: Any = None
        if self.calibration != "none":
            group_array = None if groups is None else np.asarray(groups)
            oof = np.zeros(len(labels))
            splitter = _splitter(labels, group_array, self.n_splits)
            for train, test in splitter.split(data, labels, group_array):
                if len(np.unique(labels[train])) < 2:
                    oof[test] = 0.0
                    continue
                fold = self._pipeline().fit(data[train], labels[train])
                oof[test] = fold.decision_function(data[test])
            if self.calibration == "isotonic":
                self.calibrator_ = IsotonicRegression(
                    y_min=0.0, y_max=1.0, out_of_bounds="clip"
                ).fit(oof, labels)
            else:
                self.calibrator_ = LogisticRegression(C=1e6).fit(oof.reshape(-1, 1), labels)
        scaler = self.pipeline_.named_steps["scale"]
        self.mean_ = pd.Series(scaler.mean_, index=varying)
        self.scale_ = pd.Series(scaler.scale_, index=varying)
        self.coef_ = pd.Series(self.pipeline_.named_steps["logistic"].coef_[0], index=varying)
        return self

    def _data(self, X: pd.DataFrame) -> np.ndarray:
        missing = [f for f in self.features_ if f not in X]
        if missing:
            raise ValidationError(
                f"X lacks the features the model was fitted on: {', '.join(missing)}"
            )
        return X[self.features_].to_numpy(dtype=float)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds."""
        return self.pipeline_.decision_function(self._data(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities, columns for classes 0 and 1."""
        raw = self.decision_function(X)
        if self.calibrator_ is None:
            p = 1.0 / (1.0 + np.exp(-raw))
        elif isinstance(self.calibrator_, IsotonicRegression):
            p = self.calibrator_.predict(raw)
        else:
            p = self.calibrator_.predict_proba(raw.reshape(-1, 1))[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each feature's push on an area's log-odds, relative to an average area.

        ``coef_j * (x_j - mean_j) / scale_j``: positive values raise the score. Their sum plus
        the intercept is the uncalibrated log-odds.
        """
        z = (X[self.features_] - self.mean_) / self.scale_
        return z * self.coef_

    def reasons(self, X: pd.DataFrame, *, top: int = 2) -> pd.Series:
        """Plain-English reasons per area: the features that raised its score most.

        E.g. "distance to the nearest centre 2.3 km (typical 1.0 km) raised the score most; then
        share of children in income-deprived families (IDACI) 41% (typical 22%)". "Typical" is
        the mean over the areas the model was fitted on (for counts, a geometric mean).
        """
        contributions = self.contributions(X)
        texts = []
        for code, row in contributions.iterrows():
            up = row[row > 0.05].sort_values(ascending=False).head(top)
            if up.empty:
                texts.append("no feature stands out: close to an average area")
                continue
            parts = []
            for rank, (feature, _) in enumerate(up.items()):
                spec = FEATURES.get(
                    feature,
                    Feature(feature, (), lambda a, feature=feature: a[feature]),  # type: ignore[misc]
                )
                value, typical = float(X.at[code, feature]), float(self.mean_[feature])
                text = f"{spec.label} {spec.show(value)} (typical {spec.show(typical)})"
                parts.append(f"{text} raised the score most" if rank == 0 else f"then {text}")
            texts.append("; ".join(parts))
        return pd.Series(texts, index=X.index, name="reasons")


@dataclass(frozen=True)
class TargetingEvaluation:
    """Out-of-fold comparison of the model with the IDACI baseline.

    Attributes
    ----------
    metrics : DataFrame
        Rows ``model`` and ``baseline``; columns ``auc`` (ROC area), ``average_precision``,
        ``brier`` (of calibrated probabilities; lower is better), ``capture_top`` (share of the
        positives among the top ``top_share`` of areas by score), ``auc_fold_mean`` and
        ``auc_fold_sd`` (over folds holding both classes).
    predictions : DataFrame
        Per area: ``label``, ``model`` and ``baseline`` out-of-fold probabilities, ``fold``.
    folds : int
    groups : int
        Wards (or other groups) used.
    summary : str
        One plain-English sentence, whichever way the comparison goes.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    folds: int
    groups: int
    summary: str


def _capture(labels: np.ndarray, scores: np.ndarray, top_share: float) -> float:
    k = max(1, int(np.ceil(top_share * len(labels) - 1e-9)))
    order = np.argsort(-scores, kind="stable")[:k]
    positives = labels.sum()
    return float(labels[order].sum() / positives) if positives else float("nan")


def evaluate_targeting(
    X: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
    *,
    baseline: pd.Series,
    model: TargetingModel | None = None,
    n_splits: int = 5,
    top_share: float = 0.3,
) -> TargetingEvaluation:
    """Spatially grouped cross-validation of the model against a baseline ranking.

    For each of ``n_splits`` folds of :class:`~sklearn.model_selection.GroupKFold` (all areas of
    a group, e.g. a ward, fall in the same fold), the model is fitted on the other folds and
    scores the held-out areas; the baseline score (e.g. the IDACI rate) is turned into a
    probability by isotonic regression fitted on the same training folds. Metrics are computed on
    the pooled out-of-fold predictions.

    Parameters
    ----------
    X : DataFrame
        Features (:func:`area_features`).
    y : Series of 0/1
        Labels (:func:`reach_labels`).
    groups : Series
        Group of each area (ward codes).
    baseline : Series
        The baseline's score per area, higher = more likely positive (e.g. IDACI rate).
    model : TargetingModel, optional
    n_splits : int
    top_share : float
        Share of areas "targeted" for ``capture_top``.
    """
    model = model or TargetingModel()
    labels, group_array, base = _aligned(X, y, groups, baseline)
    n_groups = len(np.unique(group_array))
    if n_groups < 2:
        raise ValidationError("grouped cross-validation needs at least two groups (wards)")
    splitter = GroupKFold(n_splits=max(2, min(n_splits, n_groups)))
    model_p, base_p, fold_of, fold_auc = _out_of_fold(
        model, X, labels, group_array, base, splitter=splitter
    )
    metrics = _metrics_table(labels, model_p, base, base_p, fold_auc, top_share=top_share)
    summary = _summary(metrics, folds=splitter.n_splits, groups=n_groups, top_share=top_share)
    predictions = pd.DataFrame(
        {"label": labels, "model": model_p, "baseline": base_p, "fold": fold_of}, index=X.index
    )
    return TargetingEvaluation(
        metrics=metrics,
        predictions=predictions,
        folds=splitter.n_splits,
        groups=n_groups,
        summary=summary,
    )


def _aligned(
    X: pd.DataFrame, y: pd.Series, groups: pd.Series, baseline: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, groups and baseline scores as arrays in the order of ``X``, each complete."""
    labels = y.reindex(X.index).to_numpy(dtype=int)
    group_array = groups.reindex(X.index).to_numpy()
    base = baseline.reindex(X.index).to_numpy(dtype=float)
    if np.isnan(base).any() or pd.isna(group_array).any():
        raise ValidationError("baseline and groups need a value for every area")
    return labels, group_array, base


def _out_of_fold(
    model: TargetingModel,
    X: pd.DataFrame,
    labels: np.ndarray,
    group_array: np.ndarray,
    base: np.ndarray,
    *,
    splitter: GroupKFold,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """Held-out probabilities of the model and the calibrated baseline, each area's fold, and
    the (model, baseline) ROC AUC of every fold holding both classes."""
    model_p = np.full(len(labels), np.nan)
    base_p = np.full(len(labels), np.nan)
    fold_of = np.zeros(len(labels), dtype=int)
    fold_auc: list[tuple[float, float]] = []
    for fold, (train, test) in enumerate(splitter.split(X, labels, group_array)):
        fold_of[test] = fold
        if len(np.unique(labels[train])) < 2:
            # Nothing to learn from one class: both rankings fall back to its base rate.
            prior = float(labels[train].mean())
            model_p[test] = base_p[test] = prior
            continue
        fitted = clone(model).fit(X.iloc[train], labels[train], groups=group_array[train])
        model_p[test] = fitted.predict_proba(X.iloc[test])[:, 1]
        # The baseline gets the same calibration chance as the model, so Brier scores compare.
        iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
            base[train], labels[train]
        )
        base_p[test] = iso.predict(base[test])
        if len(np.unique(labels[test])) == 2:
            fold_auc.append(
                (
                    roc_auc_score(labels[test], model_p[test]),
                    roc_auc_score(labels[test], base[test]),
                )
            )
    return model_p, base_p, fold_of, fold_auc


def _metrics_table(
    labels: np.ndarray,
    model_p: np.ndarray,
    base: np.ndarray,
    base_p: np.ndarray,
    fold_auc: list[tuple[float, float]],
    *,
    top_share: float,
) -> pd.DataFrame:
    """Pooled out-of-fold metrics, one row for the model and one for the baseline."""
    # Ranking metrics use the raw baseline score; the Brier score needs its calibrated form.
    return pd.DataFrame(
        {
            "auc": [roc_auc_score(labels, model_p), roc_auc_score(labels, base)],
            "average_precision": [
                average_precision_score(labels, model_p),
                average_precision_score(labels, base),
            ],
            "brier": [brier_score_loss(labels, model_p), brier_score_loss(labels, base_p)],
            "capture_top": [
                _capture(labels, model_p, top_share),
                _capture(labels, base, top_share),
            ],
            "auc_fold_mean": [
                float(np.mean([a for a, _ in fold_auc])) if fold_auc else np.nan,
                float(np.mean([b for _, b in fold_auc])) if fold_auc else np.nan,
            ],
            "auc_fold_sd": [
                float(np.std([a for a, _ in fold_auc])) if fold_auc else np.nan,
                float(np.std([b for _, b in fold_auc])) if fold_auc else np.nan,
            ],
        },
        index=pd.Index(["model", "baseline"], name="ranking"),
    )


def _summary(metrics: pd.DataFrame, *, folds: int, groups: int, top_share: float) -> str:
    """One plain-English sentence on the comparison, whichever way it goes."""
    m, b = metrics.loc["model"], metrics.loc["baseline"]
    better = m["auc"] > b["auc"] and m["brier"] <= b["brier"]
    worse = m["auc"] < b["auc"]
    verdict = (
        "The model ranks areas better than the IDACI baseline"
        if better
        else "The model does not beat the IDACI baseline"
        if worse
        else "The model ranks areas better than the IDACI baseline but its probabilities are no "
        "better calibrated"
    )
    return (
        f"{verdict} in spatially grouped cross-validation ({folds} folds by "
        f"{groups} groups): ROC AUC {m['auc']:.2f} vs {b['auc']:.2f}, Brier score "
        f"{m['brier']:.3f} vs {b['brier']:.3f}; targeting the top {top_share:.0%} of areas finds "
        f"{m['capture_top']:.0%} of the flagged areas vs {b['capture_top']:.0%}."
    )
