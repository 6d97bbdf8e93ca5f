"""A targeting model: which small areas are likely to have a reach shortfall or unmet need.

Trained on registration-derived reach (:mod:`planning.runs.reach`) with area features anyone can see
(deprivation domains, distance to the nearest centre, rural-urban class, under-5 counts), it
scores every area, including those whose own registrations are too few to trust, and says why.

Honest evaluation (:func:`evaluate_targeting`): spatially grouped cross-validation (areas of one
ward are never split between training and testing, so neighbouring areas cannot leak into the
test), compared with the *best* simple ranking (each admissible feature, the IMD score and the
need index, in either direction, chosen on the training folds only). The model's scores are
calibrated probabilities (isotonic regression on out-of-fold scores), and each area's reasons
come from the per-feature contributions of the linear model. The model claims an advantage only
when a paired bootstrap over wards puts the whole 95% interval of its AUC gain above zero.

The features, the simple rankings and the labels, with the rule that no feature or baseline
ranking shares an underlying quantity with the label (:data:`LABEL_INPUTS`, :data:`FACTORS`,
:func:`admissible`), are :mod:`planning.analysis.targeting_features`. This module fits and
evaluates the model, and re-exports them, so the whole targeting-model API is imported from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from planning.analysis.targeting_features import (
    FACTORS,
    FEATURES,
    LABEL_INPUTS,
    SIMPLE_RANKINGS,
    TARGETS,
    Feature,
    admissible,
    area_features,
    reach_labels,
    shared_factors,
    simple_rankings,
)

# The features and labels live in targeting_features; this module fits and evaluates the model,
# and is the one place to import the whole targeting-model API from.
__all__ = [
    "FACTORS",
    "FEATURES",
    "LABEL_INPUTS",
    "SIMPLE_RANKINGS",
    "TARGETS",
    "Feature",
    "TargetingEvaluation",
    "TargetingModel",
    "admissible",
    "area_features",
    "evaluate_targeting",
    "reach_labels",
    "shared_factors",
    "simple_rankings",
]


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
    """Out-of-fold comparison of the model with the best simple ranking.

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
    candidates : DataFrame
        One row per simple ranking tried: ``auc`` out of fold (direction chosen on each fold's
        training areas), ``folds_chosen`` (folds in which it was the baseline).
    baseline_choice : list of str
        The ranking and direction chosen as the baseline in each fold, e.g. ``"-distance_km"``
        (a leading minus: lower values ranked first).
    baseline_name : str
        The ranking chosen in most folds (the one the summary names).
    auc_gain_interval : tuple of float
        95% paired bootstrap interval (resampling groups) of the model's AUC minus the
        baseline's.
    advantage : bool
        Whether the model is claimed better: the whole interval above zero.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    folds: int
    groups: int
    summary: str
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline_choice: list[str] = field(default_factory=list)
    baseline_name: str = ""
    auc_gain_interval: tuple[float, float] = (float("nan"), float("nan"))
    advantage: bool = False


def _capture(labels: np.ndarray, scores: np.ndarray, top_share: float) -> float:
    k = max(1, int(np.ceil(top_share * len(labels) - 1e-9)))
    order = np.argsort(-scores, kind="stable")[:k]
    positives = labels.sum()
    return float(labels[order].sum() / positives) if positives else float("nan")


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank sum (ties count half); NaN without both classes."""
    from scipy.stats import rankdata

    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float(
        (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def evaluate_targeting(
    X: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
    *,
    baseline: pd.Series | pd.DataFrame,
    model: TargetingModel | None = None,
    n_splits: int = 5,
    top_share: float = 0.3,
    n_boot: int = 1000,
    seed: int = 0,
) -> TargetingEvaluation:
    """Spatially grouped cross-validation of the model against the best simple ranking.

    For each of ``n_splits`` folds of :class:`~sklearn.model_selection.GroupKFold` (all areas of
    a group, e.g. a ward, fall in the same fold), the model is fitted on the other folds and
    scores the held-out areas. The baseline is chosen on the same training folds: of the
    candidate rankings (columns of ``baseline``), each in both directions, the one with the
    highest training ROC AUC; its held-out scores are turned into probabilities by isotonic
    regression fitted on the training folds, as the model's are, so both pool across folds the
    same way. Metrics are computed on the pooled out-of-fold probabilities.

    The model is said to rank areas better only when the 95% paired bootstrap interval of
    ``AUC(model) - AUC(baseline)``, resampling whole groups ``n_boot`` times, lies above zero.

    Parameters
    ----------
    X : DataFrame
        Features (:func:`area_features`).
    y : Series of 0/1
        Labels (:func:`reach_labels`).
    groups : Series
        Group of each area (ward codes).
    baseline : Series or DataFrame
        Candidate simple rankings, one column each (:func:`simple_rankings`); a Series is one
        candidate.
    model : TargetingModel, optional
    n_splits : int
    top_share : float
        Share of areas "targeted" for ``capture_top``.
    n_boot, seed : int
        Bootstrap resamples and their seed.
    """
    model = model or TargetingModel()
    candidates = baseline.to_frame() if isinstance(baseline, pd.Series) else baseline
    if candidates.empty:
        raise ValidationError("the baseline needs at least one simple ranking")
    labels, group_array, base = _aligned(X, y, groups, candidates)
    if len(np.unique(labels)) < 2:
        raise ValidationError(
            f"every area has label {int(labels[0])}: nothing to evaluate; with the shortfall "
            "target, every area is on one side of the benchmark (try target='unmet_need')"
        )
    n_groups = len(np.unique(group_array))
    if n_groups < 2:
        raise ValidationError("grouped cross-validation needs at least two groups (wards)")
    splitter = GroupKFold(n_splits=max(2, min(n_splits, n_groups)))
    names = [str(c) for c in candidates.columns]
    oof = _out_of_fold(model, X, labels, group_array, base, names=names, splitter=splitter)
    metrics = _metrics_table(labels, oof, top_share=top_share)
    chosen = pd.Series([c.lstrip("-") for c in oof.choice if c])
    baseline_name = str(chosen.mode().iloc[0]) if len(chosen) else names[0]
    table = pd.DataFrame(
        {
            "auc": [_auc(labels, oof.candidate_rank[:, j]) for j in range(len(names))],
            "folds_chosen": [int((chosen == n).sum()) for n in names],
        },
        index=pd.Index(names, name="ranking"),
    )
    interval = _auc_gain_interval(
        labels, oof.model_rank, oof.base_rank, group_array, n_boot=n_boot, seed=seed
    )
    advantage = bool(interval[0] > 0)
    summary = _summary(
        metrics,
        folds=splitter.n_splits,
        groups=n_groups,
        top_share=top_share,
        baseline=baseline_name,
        interval=interval,
        advantage=advantage,
    )
    predictions = pd.DataFrame(
        {"label": labels, "model": oof.model_p, "baseline": oof.base_p, "fold": oof.fold_of},
        index=X.index,
    )
    return TargetingEvaluation(
        metrics=metrics,
        predictions=predictions,
        folds=splitter.n_splits,
        groups=n_groups,
        summary=summary,
        candidates=table,
        baseline_choice=list(oof.choice),
        baseline_name=baseline_name,
        auc_gain_interval=interval,
        advantage=advantage,
    )


def _aligned(
    X: pd.DataFrame, y: pd.Series, groups: pd.Series, candidates: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, groups and candidate scores as arrays in the order of ``X``, each complete."""
    labels = y.reindex(X.index).to_numpy(dtype=int)
    group_array = groups.reindex(X.index).to_numpy()
    base = candidates.reindex(X.index).to_numpy(dtype=float)
    if np.isnan(base).any() or pd.isna(group_array).any():
        bad = candidates.columns[candidates.reindex(X.index).isna().any()].tolist()
        raise ValidationError(
            "baseline rankings and groups need a value for every area"
            + (f"; blanks in {', '.join(map(str, bad))}" if bad else "; blanks in groups")
        )
    return labels, group_array, base


@dataclass
class _OutOfFold:
    model_p: np.ndarray
    base_p: np.ndarray
    model_rank: np.ndarray
    base_rank: np.ndarray
    candidate_rank: np.ndarray
    fold_of: np.ndarray
    choice: list[str]
    fold_auc: list[tuple[float, float]]


def _best_ranking(labels: np.ndarray, base: np.ndarray) -> tuple[int, list[int]]:
    """Column of the best ranking on these (training) areas, and each column's better sign.

    Each column is tried in both directions (sign +1: higher values first); ties keep the first
    column.
    """
    aucs, signs = [], []
    for j in range(base.shape[1]):
        auc = _auc(labels, base[:, j])
        aucs.append(max(auc, 1 - auc))
        signs.append(1 if auc >= 1 - auc else -1)
    best = max(range(base.shape[1]), key=lambda j: (aucs[j], -j))
    return best, signs


def _out_of_fold(
    model: TargetingModel,
    X: pd.DataFrame,
    labels: np.ndarray,
    group_array: np.ndarray,
    base: np.ndarray,
    *,
    names: list[str],
    splitter: GroupKFold,
) -> _OutOfFold:
    """Held-out probabilities of the model, of every candidate ranking (direction chosen and
    isotonic calibration fitted on the training folds) and of the candidate chosen as the
    baseline on the training folds; each area's fold; the choices; and the (model, baseline)
    ROC AUC of every fold holding both classes.

    Both are ranked by calibrated probability, ties within a fold broken by the raw score
    (:func:`_ranking_score`), so the model and the baseline pool across folds the same way and
    neither loses order to the steps of its isotonic calibration.
    """
    n, k = base.shape
    oof = _OutOfFold(
        model_p=np.full(n, np.nan),
        base_p=np.full(n, np.nan),
        model_rank=np.zeros(n),
        base_rank=np.zeros(n),
        candidate_rank=np.zeros((n, k)),
        fold_of=np.zeros(n, dtype=int),
        choice=[],
        fold_auc=[],
    )
    for fold, (train, test) in enumerate(splitter.split(X, labels, group_array)):
        oof.fold_of[test] = fold
        if len(np.unique(labels[train])) < 2:
            # Nothing to learn from one class: every ranking falls back to its base rate.
            prior = float(labels[train].mean())
            oof.model_p[test] = oof.base_p[test] = prior
            oof.model_rank[test] = oof.base_rank[test] = prior
            oof.candidate_rank[test] = prior
            oof.choice.append("")
            continue
        fitted = clone(model).fit(X.iloc[train], labels[train], groups=group_array[train])
        oof.model_p[test] = fitted.predict_proba(X.iloc[test])[:, 1]
        oof.model_rank[test] = _ranking_score(
            oof.model_p[test], fitted.decision_function(X.iloc[test])
        )
        best, signs = _best_ranking(labels[train], base[train])
        for j, sign in enumerate(signs):
            iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(
                sign * base[train, j], labels[train]
            )
            p = iso.predict(sign * base[test, j])
            sd = float(base[train, j].std()) or 1.0
            raw = sign * (base[test, j] - float(base[train, j].mean())) / sd
            oof.candidate_rank[test, j] = _ranking_score(p, raw)
            if j == best:
                oof.base_p[test] = p
        oof.base_rank[test] = oof.candidate_rank[test, best]
        oof.choice.append(("-" if signs[best] < 0 else "") + names[best])
        if len(np.unique(labels[test])) == 2:
            oof.fold_auc.append(
                (
                    roc_auc_score(labels[test], oof.model_rank[test]),
                    roc_auc_score(labels[test], oof.base_rank[test]),
                )
            )
    return oof


def _auc_gain_interval(
    labels: np.ndarray,
    model_score: np.ndarray,
    base_score: np.ndarray,
    group_array: np.ndarray,
    *,
    n_boot: int,
    seed: int,
) -> tuple[float, float]:
    """95% interval of ``AUC(model) - AUC(baseline)`` over ``n_boot`` resamples of whole groups
    (paired: both rankings scored on the same resampled areas)."""
    rng = np.random.default_rng(seed)
    unique, inverse = np.unique(group_array, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(unique))]
    gains = []
    for _ in range(n_boot):
        picked = np.concatenate([members[g] for g in rng.integers(0, len(unique), len(unique))])
        gain = _auc(labels[picked], model_score[picked]) - _auc(labels[picked], base_score[picked])
        if not np.isnan(gain):
            gains.append(gain)
    if not gains:
        return (float("nan"), float("nan"))
    low, high = np.quantile(gains, [0.025, 0.975])
    return (float(low), float(high))


def _ranking_score(p: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Calibrated probability with ties broken by the raw score: ``p + 1e-6 * tanh(raw)``.

    Isotonic calibration is a step function; the tiny strictly increasing term keeps the raw
    order inside a step without moving any area across a step's probability.
    """
    return p + 1e-6 * np.tanh(raw)


def _metrics_table(labels: np.ndarray, oof: _OutOfFold, *, top_share: float) -> pd.DataFrame:
    """Pooled out-of-fold metrics, one row for the model and one for the baseline.

    Ranking metrics use the ranking scores; the Brier score the calibrated probabilities.
    """
    fold_auc = oof.fold_auc
    rank = (oof.model_rank, oof.base_rank)
    return pd.DataFrame(
        {
            "auc": [roc_auc_score(labels, r) for r in rank],
            "average_precision": [average_precision_score(labels, r) for r in rank],
            "brier": [brier_score_loss(labels, oof.model_p), brier_score_loss(labels, oof.base_p)],
            "capture_top": [_capture(labels, r, top_share) for r in rank],
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


def _summary(
    metrics: pd.DataFrame,
    *,
    folds: int,
    groups: int,
    top_share: float,
    baseline: str,
    interval: tuple[float, float],
    advantage: bool,
) -> str:
    """One plain-English sentence on the comparison, whichever way it goes."""
    m, b = metrics.loc["model"], metrics.loc["baseline"]
    label = SIMPLE_RANKINGS[baseline].label if baseline in SIMPLE_RANKINGS else baseline
    name = f"the best simple ranking ({label}, chosen on the training folds)"
    if advantage:
        verdict = f"The model ranks areas better than {name}"
    elif m["auc"] < b["auc"]:
        verdict = f"The model does not beat {name}"
    else:
        verdict = f"The model shows no clear advantage over {name}"
    return (
        f"{verdict} in spatially grouped cross-validation ({folds} folds by "
        f"{groups} groups): ROC AUC {m['auc']:.2f} vs {b['auc']:.2f} (gain 95% interval "
        f"{interval[0]:+.2f} to {interval[1]:+.2f}), Brier score "
        f"{m['brier']:.3f} vs {b['brier']:.3f}; targeting the top {top_share:.0%} of areas finds "
        f"{m['capture_top']:.0%} of the flagged areas vs {b['capture_top']:.0%}."
    )
