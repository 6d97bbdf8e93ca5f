"""Every README block marked runnable runs as written, in a temporary folder.

Markers (HTML comments, invisible on GitHub), on the line before a fenced block:

* ``<!-- runnable -->``: a ``sh`` block is run line by line with ``bash -e`` (``\\`` continues a
  line); a ``python`` block is run with this Python.
* ``<!-- file: NAME -->``: the block is a file the later blocks use (the scenario YAML); it is
  written verbatim as NAME into the folder of every runnable block after it.

Each runnable block gets a fresh temporary folder holding ``.venv/bin/planning`` (this Python's
``planning``), ``src`` and ``schedules`` (links to the repository's, so the README's paths exist)
and the files above it, and runs there: every output (``out/``, ``reports/``) lands inside it,
never in the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
MARKER = re.compile(r"^<!--\s*(runnable|file:\s*(?P<name>\S+))\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    kind: str  # "runnable" or "file"
    name: str | None = None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.name or self.lang}"


def readme_blocks(text: str) -> list[Block]:
    """The marked blocks of the README, in order."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines[:-1]):
        marker = MARKER.match(line)
        fence = FENCE.match(lines[i + 1])
        if not marker:
            continue
        assert fence, f"README.md:{i + 1}: a marker must be followed by a ``` fence"
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        body = "\n".join(lines[i + 2 : end]) + "\n"
        kind = "file" if marker.group("name") else "runnable"
        blocks.append(Block(i + 2, fence.group("lang"), body, kind, marker.group("name")))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [b for b in BLOCKS if b.kind == "runnable"]


def commands(block: Block) -> list[str]:
    """The commands of a shell block, continuation lines joined."""
    joined = block.text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def make_folder(tmp_path: Path, block: Block) -> Path:
    folder = tmp_path / "work"
    (folder / ".venv" / "bin").mkdir(parents=True)
    planning = folder / ".venv" / "bin" / "planning"
    planning.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m planning "$@"\n')
    planning.chmod(0o755)
    for name in ("src", "schedules"):
        (folder / name).symlink_to(REPO / name, target_is_directory=True)
    for earlier in BLOCKS:
        if earlier.kind == "file" and earlier.line < block.line:
            (folder / str(earlier.name)).write_text(earlier.text, encoding="utf-8")
    return folder


def run_block(block: Block, folder: Path) -> list[subprocess.CompletedProcess]:
    env = os.environ | {"PYTHONPATH": str(REPO / "src")}
    if block.lang == "python":
        done = subprocess.run([sys.executable, "-c", block.text], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"{block.id}:\n{done.stderr}"
        return [done]
    assert block.lang in ("sh", "bash"), f"{block.id}: runnable blocks are sh or python"
    results = []
    for command in commands(block):
        done = subprocess.run(["bash", "-ec", command], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, f"{block.id}: {command}\n{done.stderr}"
        assert "error:" not in done.stderr, f"{block.id}: {command}\n{done.stderr}"
        results.append(done)
    return results


def _repository_outputs() -> dict[str, float]:
    """What the README's commands would write in the repository if run there."""
    found = {}
    for name in ("reports", "out", "my_standards.yaml", "demo_synthetic.csv", "schemas"):
        path = REPO / name
        if path.exists():
            found[name] = path.stat().st_mtime
    return found


def test_the_readme_marks_the_examples_that_must_run():
    ids = [b.id for b in BLOCKS]
    assert any(b.kind == "file" and b.name == "close_spondon.yaml" for b in BLOCKS), ids
    assert len(RUNNABLE) >= 5, ids
    shown = "\n".join(b.text for b in RUNNABLE)
    assert "--scenario close_spondon.yaml" in shown and "standards --write" in shown
    for block in RUNNABLE:  # copyable: no placeholders or alternatives to pick from
        assert not re.search(r"\[--|\w\|\w|<[A-Z]+>|\bFILE\b", block.text), block.id


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_runnable_block_runs_as_written(block, tmp_path):
    before = _repository_outputs()
    folder = make_folder(tmp_path, block)
    results = run_block(block, folder)
    assert _repository_outputs() == before  # nothing written into the repository
    if "--scenario close_spondon.yaml" in block.text:
        check_scenario_example(folder, results)


def check_scenario_example(folder: Path, results: list[subprocess.CompletedProcess]) -> None:
    """The README's scenario, verbatim: the capacity for one centre, a tighter reach standard,
    the after network read back as --centres, and a consultation pack published on its own."""
    scenario = json.loads((folder / "out" / "scenario" / "summary.json").read_text())
    assert scenario["summary"][0].startswith(
        "This scenario changes the standards, so before and after are measured differently: "
        "reasonable reach 2.5 km -> 2 km"
    )
    assert scenario["standards_changed"] == ["reasonable reach 2.5 km -> 2 km"]
    after = json.loads((folder / "out" / "after" / "summary.json").read_text())
    assert any(note.startswith("Capacity is known for 1 of 10 centres") for note in after["notes"])
    today = dt.date.today().isoformat()
    derby = folder / "reports" / "derby"
    assert sorted(p.name for p in derby.iterdir()) == [f"{today}-scenario-close-spondon"]
    page = (derby / f"{today}-scenario-close-spondon"
            / f"sufficiency-derby-{today}-scenario-close-spondon.html").read_text()  # fmt: skip
    assert "Consultation evidence" in page and "reasonable reach 2.5 km -&gt; 2 km" in page
    index = (folder / "reports" / "index.html").read_text()
    assert "Scenario, not the current network: Close Spondon, open at Derwent" in index
    optimise = "\n".join(r.stdout for r in results if "cover-all chose" in r.stdout)
    assert "--p 12 is a maximum, not a target" in optimise


def _resolves(dotted: str) -> bool:
    """Whether ``planning.a.b.name`` is a module, or an attribute of the longest module prefix."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                target = getattr(target, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_python_name_the_readme_gives_exists():
    """`planning.inputs.centres.write_csv`, not a module that was moved away."""
    text = README.read_text(encoding="utf-8")
    names = set(re.findall(r"`[^`]*?\b(planning(?:\.[A-Za-z_]\w*)+)", text))
    names |= {f"planning.{n.strip()}" for line in re.findall(r"from planning import ([\w, ]+)", text)
              for n in line.split(",") if n.strip()}  # fmt: skip
    assert len(names) > 20
    assert sorted(n for n in names if not _resolves(n)) == []
