"""The package's shape: layers that read as the data flow, enforced; one public API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import planning

from conftest import REPO

LAYERS = ("inputs", "analysis", "runs", "outputs", "apps")


def test_import_linter_contracts_are_kept():
    # The contracts live in pyproject.toml: layers (apps -> outputs -> runs -> analysis ->
    # inputs -> standards -> base) and no import cycles between sibling modules.
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), str(REPO / "pyproject.toml")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_every_public_name_resolves_and_is_listed():
    for name in planning.__all__:
        assert getattr(planning, name) is not None, name
    assert set(planning.__all__) <= set(dir(planning))


def test_each_layer_is_a_package_with_its_own_docstring():
    for layer in LAYERS:
        init = REPO / "src" / "planning" / layer / "__init__.py"
        assert init.is_file(), layer
        assert init.read_text().startswith('"""'), layer


def test_import_planning_does_not_load_the_upper_layers():
    code = (
        "import sys, planning; "
        "print(sorted(m for m in sys.modules if m.startswith('planning.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = done.stdout
    for upper in ("planning.apps", "planning.outputs", "planning.runs", "planning.analysis"):
        assert upper not in loaded, loaded


def test_all_lists_exactly_the_exports():
    assert set(planning.__all__) == {
        "CRSError", "InfeasibleError", "PlanningError", "ValidationError", *planning._EXPORTS
    }
