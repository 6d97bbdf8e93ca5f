"""Gains of area targeting, outreach allocation and the targeting model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from planning import ValidationError, toy_town
from planning.apps.cli import main
from planning.runs.reach import assess_reach, registration_counts
from planning.inputs.synthetic import synthetic_registrations, write_synthetic_registrations
from planning.analysis.targeting import (
    ALLOCATION_RULES,
    OutreachModel,
    allocate_outreach,
    compare_outreach,
    gains_curve,
    gains_table,
    targeting_errors,
)
from planning.analysis.targeting_model import (
    FEATURES,
    LABEL_INPUTS,
    SIMPLE_RANKINGS,
    TargetingModel,
    area_features,
    evaluate_targeting,
    reach_labels,
    shared_factors,
    simple_rankings,
)

AS_OF = "2025-03-31"


@pytest.fixture
def strip4():
    """Four areas in a row: under-5s 100..400, IMD deciles 1, 2, 5, 9 (ranked in that order).

    IDACI children set by hand to 120, 60, 30, 0 of 300, 600, 900, 1,200 children, so the
    under-5s in income-deprived families are 100*0.4 = 40, 200*0.1 = 20, 300/30 = 10 and 0 (70).
    """
    town = toy_town(rows=1, columns=4, under5=[100, 200, 300, 400], imd_decile=[1, 2, 5, 9])
    town["idaci_children"] = [120.0, 60.0, 30.0, 0.0]
    return town


def test_gains_curve_by_hand(strip4):
    curve = gains_curve(strip4, "imd")
    assert curve["areas_targeted"].tolist() == [0, 1, 2, 3, 4]
    assert curve["last_area"].tolist()[1:] == ["T00", "T01", "T02", "T03"]
    assert curve["under5_share"].tolist() == pytest.approx([0, 0.1, 0.3, 0.6, 1.0])
    assert curve["coverage"].tolist() == pytest.approx([0, 40 / 70, 60 / 70, 1, 1])
    assert curve["exclusion_error"].tolist() == pytest.approx([1, 30 / 70, 10 / 70, 0, 0])
    assert curve["inclusion_error"].tolist()[1:] == pytest.approx(
        [1 - 40 / 100, 1 - 60 / 300, 1 - 70 / 600, 1 - 70 / 1000]
    )
    assert curve["idaci_share"].tolist() == pytest.approx([0, 120 / 210, 180 / 210, 1, 1])
    assert curve["in_need_missed"].tolist() == pytest.approx([70, 30, 10, 0, 0])
    # IDACI rate ranks the same areas first here; a score Series reversing the order does not.
    assert gains_curve(strip4, "idaci")["coverage"].tolist() == pytest.approx(curve["coverage"])
    reverse = pd.Series([1.0, 2.0, 3.0, 4.0], index=strip4.index, name="reverse")
    assert gains_curve(strip4, reverse)["coverage"].tolist() == pytest.approx(
        [0, 0, 10 / 70, 30 / 70, 1]
    )


def test_ties_keep_area_order_and_table_uses_ceiling(strip4):
    flat = pd.Series(1.0, index=strip4.index)
    assert gains_curve(strip4, flat)["last_area"].tolist()[1:] == ["T00", "T01", "T02", "T03"]
    table = gains_table(strip4, rankings=("imd",), shares=(0.3, 0.5))
    # ceil(0.3 * 4) = 2 areas; 0.5 * 4 = 2 areas.
    assert table["areas_targeted"].tolist() == [2, 2]
    assert table["coverage"].tolist() == pytest.approx([60 / 70, 60 / 70])


def test_targeting_errors_by_hand(strip4):
    errors = targeting_errors(strip4, strip4["imd_decile"] <= 3)
    assert errors["areas_targeted"] == 2
    assert errors["coverage"] == pytest.approx(60 / 70)
    assert errors["exclusion_error"] == pytest.approx(10 / 70)
    assert errors["inclusion_error"] == pytest.approx(0.8)
    assert errors["in_need_missed"] == pytest.approx(10)
    assert errors["in_need_total"] == pytest.approx(70)
    assert errors["idaci_missed"] == pytest.approx(30)


def test_gains_invariants_on_derby(derby_areas):
    curve = gains_curve(derby_areas, "need_index")
    assert (np.diff(curve["coverage"]) >= -1e-12).all()
    assert curve["coverage"].iloc[-1] == pytest.approx(1.0)
    # Derby: share of under-5s in income-deprived families outside the national 30% most deprived
    # (with Derby's official IoD2025 IDACI score as the rate; 0.2405 with the rebuilt rate).
    errors = targeting_errors(derby_areas, derby_areas["imd_decile"] <= 3)
    assert errors["areas_targeted"] == 70
    assert errors["exclusion_error"] == pytest.approx(0.2305, abs=5e-4)
    idaci_outside = errors["idaci_missed"] / derby_areas["idaci_children"].sum()
    assert idaci_outside == pytest.approx(0.2404, abs=5e-4)


def test_unknown_ranking_lists_valid_names(strip4):
    with pytest.raises(ValidationError, match="unknown ranking 'imd2'; valid: imd, idaci"):
        gains_curve(strip4, "imd2")


# ---- outreach ------------------------------------------------------------------------------------


def test_outreach_rules_by_hand(strip4):
    shares = {
        "equal": [0.25] * 4,
        "per_under5": [0.1, 0.2, 0.3, 0.4],
        "idaci": [120 / 210, 60 / 210, 30 / 210, 0],
        # Half per under-5, half per IDACI child.
        "proportionate_universalism": [
            0.5 * u + 0.5 * i
            for u, i in zip([0.1, 0.2, 0.3, 0.4], [120 / 210, 60 / 210, 30 / 210, 0])
        ],
    }
    for rule, expected in shares.items():
        table = allocate_outreach(strip4, hours=1000, by=None, rule=rule)
        assert table["hours"].tolist() == pytest.approx([1000 * s for s in expected]), rule
    universal = allocate_outreach(strip4, hours=1000, by=None, rule="proportionate_universalism",
                                  universal_share=1.0)
    assert universal["share"].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_reach_models_by_hand(strip4):
    model = OutreachModel(families_per_hour=0.5)
    table = allocate_outreach(strip4, hours=400, by=None, rule="equal", model=model)
    # 100 hours each -> 50 contacts; in need 40, 20, 10, 0; families 100..400.
    assert table["contacts"].tolist() == pytest.approx([50] * 4)
    assert table["reached_targeted"].tolist() == pytest.approx([40, 20, 10, 0])
    assert table["reached_untargeted"].tolist() == pytest.approx([40 * 0.5, 20 * 0.25, 10 / 6, 0])
    assert table["reached_saturating"].tolist() == pytest.approx(
        [n * (1 - np.exp(-50 / f)) for n, f in zip([40, 20, 10, 0], [100, 200, 300, 400])]
    )
    comparison = compare_outreach(strip4, hours=400, by=None, model=model)
    assert set(comparison["rule"]) == set(ALLOCATION_RULES)
    saturating = comparison[comparison["reach_model"] == "saturating"]
    best = saturating.set_index("rule")["in_need_reached"]
    assert best["idaci"] > best["per_under5"]  # need-weighted hours find more families in need


def test_workers_are_whole_and_sum(derby_areas):
    from planning.runs.sufficiency import run_sufficiency

    areas = run_sufficiency("Derby").result.areas
    table = allocate_outreach(areas, workers=7, by="centre_id", rule="need_index")
    assert table["workers"].sum() == 7 and table["workers"].dtype.kind == "i"
    assert table["hours"].sum() == pytest.approx(7 * OutreachModel().hours_per_worker)
    with pytest.raises(ValidationError, match="unknown allocation rule 'fair'; valid: equal"):
        allocate_outreach(areas, hours=10, rule="fair")
    with pytest.raises(ValidationError, match="either hours or workers"):
        allocate_outreach(areas, hours=10, workers=2)


# ---- the model ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def derby_run():
    from planning.runs.sufficiency import run_sufficiency

    return run_sufficiency("Derby").result


def _labelled(areas, target=None, **signal):
    extract = synthetic_registrations(areas, as_of=AS_OF, **signal)
    reach = assess_reach(registration_counts(extract, areas, as_of=AS_OF), areas)
    if target is None:
        return area_features(areas), reach_labels(reach.areas)
    return area_features(areas, target=target), reach_labels(reach.areas, target=target)


def _evaluate(areas, *, target="shortfall", **signal):
    X, y = _labelled(areas, target=target, **signal)
    baseline = simple_rankings(areas, target=target)
    return X, y, baseline, evaluate_targeting(X, y, areas["ward_code"], baseline=baseline)


def test_model_beats_the_best_simple_ranking_with_a_planted_combined_signal(derby_run):
    # Reach falls with distance AND rises with deprivation: no single ranking has both.
    areas = derby_run.areas
    _, _, _, evaluation = _evaluate(areas, seed=4, distance_effect=-0.8, deprivation_effect=0.4)
    metrics = evaluation.metrics
    assert evaluation.folds == 5 and evaluation.groups == 18
    assert evaluation.advantage and evaluation.auc_gain_interval[0] > 0
    assert metrics.loc["model", "auc"] > metrics.loc["baseline", "auc"]
    assert "ranks areas better than the best simple ranking" in evaluation.summary
    # Folds never split a ward.
    folds = evaluation.predictions["fold"].groupby(areas["ward_code"]).nunique()
    assert (folds == 1).all()
    assert evaluation.predictions["model"].between(0, 1).all()


@pytest.mark.parametrize("target", sorted(LABEL_INPUTS))
def test_no_feature_or_baseline_shares_a_factor_with_the_label(derby_run, target):
    areas = derby_run.areas
    inputs = LABEL_INPUTS[target]
    features = area_features(areas, target=target)
    for name in features.columns:
        assert not shared_factors(FEATURES[name].needs, target), name
        assert not set(FEATURES[name].needs) & set(inputs), name
    for name in simple_rankings(areas, target=target).columns:
        assert not shared_factors(SIMPLE_RANKINGS[name].needs, target), name
    # Today's circular features are refused: the under-5 count is reach's denominator, and
    # (for unmet need) IDACI's income-deprived children are counted in the income domain.
    with pytest.raises(ValidationError, match="share a factor with the '" + target):
        area_features(areas, features=["distance_km", "log_under5"], target=target)
    if target == "unmet_need":
        assert not {"idaci_rate", "income_score", "log_in_need"} & set(features.columns)


def test_label_inputs_are_declared_truthfully(derby_run):
    # The shortfall label moves with the declared inputs and with nothing else.
    areas = derby_run.areas.copy()
    extract = synthetic_registrations(areas, seed=3, as_of=AS_OF)

    def labels(frame):
        reach = assess_reach(registration_counts(extract, frame, as_of=AS_OF), frame)
        return reach_labels(reach.areas, target="shortfall")

    before = labels(areas)
    others = areas.copy()
    others["idaci_children"] = others["idaci_children"] * 0.5
    others["distance_m"] = others["distance_m"] * 3
    pd.testing.assert_series_equal(labels(others), before)
    fewer = areas.copy()
    fewer["under5"] = fewer["under5"] * 0.7
    assert not labels(fewer).equals(before)


def test_no_advantage_claimed_without_signal_beyond_the_baseline(derby_run):
    # Reach depends on distance alone, which one simple ranking holds: the model may not claim
    # an advantage (today it "beat" the IDACI-only baseline on exactly this kind of data).
    areas = derby_run.areas
    for seed in (4, 6):
        _, _, _, evaluation = _evaluate(areas, seed=seed, distance_effect=-0.8,
                                        deprivation_effect=0.0)
        assert evaluation.baseline_name == "distance_km"
        assert not evaluation.advantage
        assert "ranks areas better" not in evaluation.summary
    # Nor on data with no signal at all.
    _, _, _, evaluation = _evaluate(areas, seed=5, distance_effect=0.0, deprivation_effect=0.0)
    assert not evaluation.advantage and "ranks areas better" not in evaluation.summary
    m, b = evaluation.metrics.loc["model"], evaluation.metrics.loc["baseline"]
    assert f"ROC AUC {m['auc']:.2f} vs {b['auc']:.2f}" in evaluation.summary


def test_reported_baseline_is_the_best_simple_ranking_on_training_folds(derby_run):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    areas = derby_run.areas
    X, y, baseline, evaluation = _evaluate(areas, seed=4, distance_effect=-0.8,
                                           deprivation_effect=0.4)
    assert len(baseline.columns) >= 5 and {"idaci_rate", "imd", "distance_km"} <= set(baseline)
    groups = areas["ward_code"].reindex(X.index)
    splits = GroupKFold(n_splits=5).split(X, y.reindex(X.index), groups)
    for (train, _), choice in zip(splits, evaluation.baseline_choice):
        labels = y.reindex(X.index).to_numpy()[train]
        aucs = {}
        for name in baseline.columns:
            auc = roc_auc_score(labels, baseline[name].reindex(X.index).to_numpy()[train])
            aucs[name], aucs["-" + name] = auc, 1 - auc
        assert aucs[choice] == pytest.approx(max(aucs.values()))
    chosen = pd.Series([c.lstrip("-") for c in evaluation.baseline_choice])
    assert evaluation.baseline_name == chosen.mode().iloc[0]
    assert evaluation.candidates.loc[evaluation.baseline_name, "folds_chosen"] == (
        chosen == evaluation.baseline_name
    ).sum()
    # Given the IDACI rate alone (today's baseline), the choice is that ranking in every fold.
    idaci = evaluate_targeting(X, y, areas["ward_code"], baseline=baseline["idaci_rate"])
    assert {c.lstrip("-") for c in idaci.baseline_choice} == {"idaci_rate"}
    assert idaci.metrics.loc["baseline", "auc"] == pytest.approx(
        idaci.candidates.loc["idaci_rate", "auc"]
    )


def test_estimator_conventions_and_reasons(derby_run):
    areas = derby_run.areas
    X, y = _labelled(areas, seed=4, distance_effect=-0.8)
    model = TargetingModel(C=0.5)
    assert model.get_params() == {"C": 0.5, "calibration": "isotonic", "n_splits": 5}
    assert not [a for a in vars(model) if a.endswith("_")]  # no work in __init__
    fitted = clone(model).fit(X, y, groups=areas["ward_code"])
    learned = ("features_", "pipeline_", "calibrator_", "coef_", "mean_", "scale_", "classes_")
    for attribute in learned:
        assert hasattr(fitted, attribute)
    assert fitted.coef_["distance_km"] > 0  # far from a centre -> more unmet need
    p = fitted.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1)
    contributions = fitted.contributions(X)
    intercept = fitted.pipeline_.named_steps["logistic"].intercept_[0]
    assert np.allclose(contributions.sum(axis=1) + intercept, fitted.decision_function(X))
    reasons = fitted.reasons(X)
    far = X["distance_km"].idxmax()
    assert "distance to the nearest centre" in reasons[far] and " km (typical " in reasons[far]
    with pytest.raises(ValidationError, match="both 0 and 1"):
        TargetingModel().fit(X, np.zeros(len(X)))


def test_target_command(tmp_path, capsys, derby_run):
    extract = synthetic_registrations(derby_run.areas, seed=9, as_of=AS_OF)
    path = write_synthetic_registrations(extract, tmp_path / "derby_synthetic.csv")
    out = tmp_path / "target"
    assert main(["target", "--authority", "Derby", "--registrations", str(path),
                 "--as-of", AS_OF, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "of under-5s in income-deprived families" in stdout and "SYNTHETIC" in stdout
    assert {p.name for p in out.iterdir()} == {
        "gains.csv", "targeting_errors.csv", "outreach.csv", "outreach_allocation.csv",
        "scores.csv", "summary.json", "targeting.html", ".planning-output.json",
    }
    scores = pd.read_csv(out / "scores.csv", index_col="area_code")
    assert len(scores) == 152 and scores["reasons"].str.len().gt(10).all()
    assert not {"registered", "reach", "sustained"} & set(scores.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["folds"] == 5 and summary["registrations"]["synthetic"] is True
    model = summary["model"]
    assert model["target"] == "shortfall" and model["label_inputs"] == ["registered", "under5"]
    assert not {"log_under5", "log_in_need"} & set(model["features"])
    assert model["baseline"]["ranking"] in model["baseline"]["candidates"]
    assert "SYNTHETIC" in model["evidence"]
    assert "not that the model would beat the best simple ranking on a real extract" in (
        model["evidence"]
    )
    html = (out / "targeting.html").read_text()
    assert "not that the model would beat the best simple ranking on a real extract" in html
    assert "Simple rankings tried as the baseline" in html
    gains = pd.read_csv(out / "gains.csv")
    assert set(gains["ranking"]) == {"imd", "idaci", "need_index", "model"}


def test_targeting_reuses_a_given_sufficiency_run():
    import pandas as pd

    from planning.runs.targeting import run_targeting
    from planning.runs.sufficiency import run_sufficiency

    run = run_sufficiency("Derby")
    given = run_targeting("Derby", run=run)
    fresh = run_targeting("Derby")
    pd.testing.assert_frame_equal(given.errors, fresh.errors)
    pd.testing.assert_frame_equal(given.outreach, fresh.outreach)


def test_one_sided_shortfall_label_skips_the_model_with_a_note(tmp_path, derby_run):
    from planning.runs.targeting import run_targeting

    # Reach about 5% everywhere: every area falls short, so there is nothing to learn.
    extract = synthetic_registrations(derby_run.areas, seed=2, as_of=AS_OF, base_reach=0.05)
    path = write_synthetic_registrations(extract, tmp_path / "low_synthetic.csv")
    run = run_targeting("Derby", registrations=path, as_of=AS_OF)
    assert run.model is None and run.evaluation is None and run.scores is None
    assert any("Targeting model not fitted" in note for note in run.notes)
    with pytest.raises(ValidationError, match="every area has label 1"):
        X = area_features(derby_run.areas, target="shortfall")
        evaluate_targeting(X, pd.Series(1, index=X.index), derby_run.areas["ward_code"],
                           baseline=simple_rankings(derby_run.areas, target="shortfall"))


def test_evidence_wording_for_a_real_extract():
    from planning.runs.targeting import model_evidence

    for target, outcome in [("shortfall", "fall short of the reach benchmark"),
                            ("unmet_need", "most estimated unmet need")]:
        text = model_evidence(target, synthetic=False)
        assert "SYNTHETIC" not in text and outcome in text and "not of why" in text
        assert "nor that it would rank as well in another authority" in text
