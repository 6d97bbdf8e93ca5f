"""The YAML formats (standards, scenario, schedule) have declared schemas, published for editors.

`planning schema FORMAT` prints a JSON Schema; these tests check it with `jsonschema`, which
shares no code with pydantic, so the published schema is checked independently of the models.
"""

from __future__ import annotations

import json
import textwrap
from importlib import resources

import pytest
import yaml
from conftest import REPO
from jsonschema import Draft202012Validator

import planning.analysis.scenario_actions
from planning import ValidationError
from planning.analysis.scenarios import load_scenario
from planning.apps.cli import main
from planning.outputs.schedule import load_schedule
from planning.standards import load_standards

FORMATS = ("standards", "scenario", "schedule", "uncertainty")


def published(fmt: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["schema", fmt]) == 0
    return json.loads(capsys.readouterr().out)


def problems_of(schema: dict, document: object) -> list[str]:
    """What `jsonschema` (not pydantic) finds wrong with a document (with the reasons each
    branch of an `anyOf`, such as a schedule's list or mapping form, was refused)."""
    found = []
    for error in Draft202012Validator(schema).iter_errors(document):
        found += [f"{list(e.absolute_path)}: {e.message}" for e in [error, *(error.context or [])]]
    return found


def documented_scenario() -> dict:
    """The example scenario in the `planning.analysis.scenario_actions` docstring (every action
    kind)."""
    doc = planning.analysis.scenario_actions.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    return yaml.safe_load(textwrap.dedent(block))


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_published_schema_is_valid_json_schema(fmt, capsys):
    schema = published(fmt, capsys)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["description"]


def test_shipped_and_documented_files_validate_against_the_published_schemas(capsys):
    shipped_standards = yaml.safe_load(
        resources.files("planning").joinpath("standards.yaml").read_text("utf-8")
    )
    example_schedule = yaml.safe_load((REPO / "schedules" / "example.yaml").read_text("utf-8"))
    shipped_uncertainty = yaml.safe_load(
        resources.files("planning").joinpath("uncertainty.yaml").read_text("utf-8")
    )
    scenario = documented_scenario()
    assert {next(iter(action)) for action in scenario["actions"]} == {
        "close", "open", "move", "capacity", "services", "standard"
    }
    for fmt, document in (
        ("standards", shipped_standards),
        ("scenario", scenario),
        ("schedule", example_schedule),
        ("schedule", example_schedule["runs"]),  # the list form of a schedule
        ("uncertainty", shipped_uncertainty),
    ):
        assert problems_of(published(fmt, capsys), document) == [], fmt


@pytest.mark.parametrize(
    "fmt, document, wrong",
    [
        ("standards", {"reach": {"distnce_km": 2}}, "distnce_km"),
        ("standards", {"reach": {"distance_km": -1}}, "-1"),
        ("standards", {"need_index": {"indicators": {"crime": 1}}}, "crime"),
        ("scenario", {"actions": [{"demolish": "CC03"}]}, "demolish"),
        ("scenario", {"actions": [{"close": "CC03", "open": {"id": "N"}}]}, "CC03"),
        ("scenario", {"actions": [{"capacity": {"id": "CC02"}}]}, "capacity"),
        ("schedule", [{"authority": "Derby", "centers": "x.csv"}], "centers"),
        ("schedule", {"runs": [{"authority": "Derby", "formats": ["docx"]}]}, "docx"),
        ("schedule", {"runs": [{"centres": "x.csv"}]}, "authority"),
        ("uncertainty", {"circuity": {"lo": 1.2, "high": 1.5}}, "lo"),
        ("uncertainty", {"fragile_below": 1.5}, "1.5"),
    ],
)
def test_published_schemas_refuse_what_the_loaders_refuse(fmt, document, wrong, capsys):
    found = problems_of(published(fmt, capsys), document)
    assert found and wrong in " ".join(found)


def test_schema_out_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "standards.schema.json"
    out.write_text("mine")
    assert main(["schema", "standards", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "mine"
    assert main(["schema", "standards", "--out", str(out), "--force"]) == 0
    Draft202012Validator.check_schema(json.loads(out.read_text()))


def test_standards_file_with_several_problems_gets_all_at_once(tmp_path):
    path = tmp_path / "standards.yaml"
    path.write_text(
        "rech: {distance_km: 2}\n"
        "reach: {distnce_km: 2}\n"
        "walking: {speed_kmh: .nan}\n"
        "need_index: {normaliser: rnak, indicators: {under5: -1}}\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_standards(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 5 problems:")
    assert "unknown section 'rech'; did you mean 'reach'? Valid sections: reach, walking" in message
    assert "unknown key 'reach.distnce_km'; did you mean 'distance_km'?" in message
    assert (
        "'walking.speed_kmh' is .nan, which is not a finite number; give a number such as 4.0"
        in message
    )
    assert "'need_index.normaliser' is 'rnak'; did you mean 'rank'? Valid: rank, minmax" in message
    assert "'need_index.indicators.under5' must be at least 0, found -1" in message


def test_scenario_file_with_several_problems_gets_all_at_once(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "nmae: Close two\n"
        "actions:\n"
        "  - close: CC03\n"
        "  - open: {id: NEW1, eastng: 432100, northing: abc}\n"
        "  - capacity: {id: CC02}\n"
        "  - {close: CC01, move: {id: CC05, postcode: DE1 1AA}}\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 5 problems:")
    assert "unknown key 'nmae'; did you mean 'name'?" in message
    assert "action 2 (open): unknown key 'eastng'; did you mean 'easting'?" in message
    assert "action 2 (open): 'northing' must be a number, found 'abc'" in message
    assert "action 3 (capacity): 'capacity' is missing; give the new capacity" in message
    assert "action 4: must be one mapping like 'close: CC03'" in message


def test_schedule_file_with_several_problems_gets_all_at_once(tmp_path):
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "allow_out_outsid: true\n"
        "runs:\n"
        "  - authority: Derby\n"
        "    formats: [html, docx]\n"
        "  - centres: thurrock.csv\n"
        "  - authority: Derby\n"
        "    scenaro: s.yaml\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_schedule(path, out=tmp_path / "reports")
    message = str(caught.value)
    assert message.startswith(f"{path}: 5 problems:")
    assert "unknown key 'allow_out_outsid'; did you mean 'allow_out_outside'?" in message
    assert "entry 1: 'formats' item 2 is 'docx'; valid: html, pdf" in message
    assert "entry 2: 'authority' is missing; give an ONS code (e.g. E06000015)" in message
    assert "entry 3: unknown key 'scenaro'; did you mean 'scenario'?" in message
    # The checks after the schema still run: entries 1 and 3 both write Derby's folder.
    assert "entry 1 (Derby) and entry 3 (Derby) both write" in message
