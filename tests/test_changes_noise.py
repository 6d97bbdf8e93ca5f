"""'What changed' says whether a change of verdict is beyond the noise (issue 16, section 3)."""

from __future__ import annotations

from planning.outputs.changes import NOISE_LEVEL, compare_figures


def _figures(verdict: str, east: str, chances: dict | None = None) -> dict:
    figures = {"verdict": verdict, "localities": {"East": {"rag": east}}}
    if chances is not None:
        figures["verdict_probabilities"] = chances
    return figures


def _noise_rows(table):
    return table[table["section"] == "How sure"].set_index("item")["after"].to_dict()


def test_a_change_the_earlier_verdict_barely_explains_is_beyond_the_noise():
    chances = {
        "draws": 1000,
        "authority": {"Green": 0.0, "Amber": 0.02, "Red": 0.98},
        "localities": {"East": {"Green": 0.0, "Amber": 0.30, "Red": 0.70}},
    }
    rows = _noise_rows(compare_figures(_figures("Amber", "Amber"), _figures("Red", "Red", chances)))
    assert rows["Authority verdict: Amber -> Red"] == (
        "beyond the noise: Amber has a 2% chance with this report's inputs (1,000 draws)"
    )
    # East's earlier verdict is still 30% likely: the change may be noise.
    assert rows["East locality verdict: Amber -> Red"].startswith("within the noise: Amber is still 30%")
    assert 0.02 < NOISE_LEVEL < 0.30


def test_no_noise_rows_without_draws_or_without_a_change():
    assert _noise_rows(compare_figures(_figures("Amber", "Amber"), _figures("Red", "Red"))) == {}
    chances = {"draws": 10, "authority": {"Green": 0.1, "Amber": 0.9, "Red": 0.0}, "localities": {}}
    same = compare_figures(_figures("Amber", "Amber"), _figures("Amber", "Amber", chances))
    assert _noise_rows(same) == {}
