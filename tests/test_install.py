"""The package installs anywhere: its wheel, installed in a fresh virtual environment outside the
repository, runs ``planning report`` with its own data, notebook and templates, and names no
folder of the build, the repository or the installation in what it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import DATA, REPO

from planning._files import file_sha256

pytestmark = pytest.mark.slow

#: What the package reads at run time, by its place in the wheel.
RESOURCES = (
    "planning/standards.yaml",
    "planning/data/lsoa21_england.parquet",
    "planning/data/lsoa11_england.parquet",
    "planning/data/authorities.csv",
    "planning/data/README.md",
    "planning/data/centres/derby_illustrative.csv",
    "planning/data/centres/thurrock_illustrative.csv",
    "planning/notebooks/sufficiency_report.ipynb",
    "planning/dashboards/sufficiency.ipynb",
    "planning/templates/offline_report/index.html.j2",
    "planning/templates/dashboard/busy.html.j2",
    "planning/templates/jupyter/voila/templates/planning/index.html.j2",
    "planning/static/leaflet/leaflet.js",
    "planning/static/leaflet/leaflet.css",
)


def _run(command: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _environment(tmp_path: Path, venv: Path) -> dict[str, str]:
    """This process's environment without anything that would reach the repository: no
    PYTHONPATH (the test run puts the worktree's src/ on it), no data folder override, and
    Jupyter looking at the new environment first (its python3 kernel). The dependencies'
    Jupyter data (nbconvert's base templates, which pip would put in the new environment's
    share/jupyter) stay in the main environment, so its share/jupyter comes second."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANNING_DATA_DIR")}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PIP_NO_INDEX="1",  # no network: everything comes from the wheel and the main venv
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        JUPYTER_PATH=os.pathsep.join(
            [str(venv / "share" / "jupyter"), str(Path(sys.prefix) / "share" / "jupyter")]
        ),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        MPLCONFIGDIR=str(tmp_path / "matplotlib"),
    )
    return env


def test_wheel_installs_outside_the_repository_and_runs_a_report(tmp_path):
    # Build from a copy of the sources, so the build writes nothing into the repository.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    build_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PIP_NO_INDEX": "1"}
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*build, "--quiet", "-w", str(wheels), str(source)], env=build_env, cwd=tmp_path)
    (wheel,) = wheels.glob("planning-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in RESOURCES if name not in shipped] == []

    # A fresh environment outside the repository, seeing the main environment's dependencies
    # through a .pth line (a plain path: the .pth files in that folder, among them the editable
    # install pointing at a source checkout, are not processed).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=build_env, cwd=tmp_path)
    python = venv / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(_run([str(python), "-c", code], env=build_env, cwd=tmp_path).strip())
    (purelib / "main_venv_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    env = _environment(tmp_path, venv)
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    _run([*install, "--no-index", "--quiet", str(wheel)], env=env, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import json, planning, planning.settings as s; "
        "from planning.apps.dashboard.server import dashboard_notebook, TEMPLATE_ROOT; "
        "from planning.outputs.report import report_notebook; "
        "print(json.dumps([planning.__file__, str(s.DATA_DIR), str(report_notebook()), "
        "str(dashboard_notebook()), str(TEMPLATE_ROOT)]))"
    )
    where = json.loads(_run([str(python), "-c", code], env=env, cwd=elsewhere))
    package = purelib / "planning"
    for path in map(Path, where):
        assert path.is_relative_to(package) and path.exists(), (path, package)

    # Papermill's kernel "python3" is this environment's Python, importing the wheel's planning.
    kernel = [str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"]
    _run(kernel, env=env, cwd=elsewhere)
    code = (
        "import json; from jupyter_client.kernelspec import KernelSpecManager as M; "
        "spec = M().get_kernel_spec('python3'); "
        "print(json.dumps([spec.resource_dir, spec.argv[0]]))"
    )
    found = json.loads(_run([str(python), "-c", code], env=env, cwd=elsewhere))
    assert Path(found[0]).is_relative_to(venv) and found[1] == str(python)

    command = [str(venv / "bin" / "planning"), "report", "--authority", "Derby"]
    printed = _run([*command, "--out", "some/folder"], env=env, cwd=elsewhere)
    out = elsewhere / "some" / "folder"
    (report,) = out.glob("derby/*/sufficiency-derby-*.html")
    assert "Children's centre sufficiency: Derby" in report.read_text(encoding="utf-8")
    manifest = json.loads((report.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    inputs = manifest["inputs"]
    assert inputs["data"]["path"] == "planning/data/lsoa21_england.parquet"
    assert inputs["data"]["sha256"] == file_sha256(DATA / "lsoa21_england.parquet")
    assert inputs["centres"]["path"] == "planning/data/centres/derby_illustrative.csv"
    assert inputs["notebook"]["path"] == "planning/notebooks/sufficiency_report.ipynb"
    assert "Report:" in printed

    # Nothing written names the repository, the build, the installation or a temporary folder.
    temporary = tempfile.gettempdir().rstrip("/") + "/"
    leaks = {str(REPO), str(tmp_path), str(tmp_path.resolve()), "site-packages", temporary}
    files = [path for path in out.rglob("*") if path.is_file()]
    assert {path.suffix for path in files} >= {".html", ".ipynb", ".json"}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [leak for leak in leaks if leak in text]
        assert found == [], f"{path.relative_to(out)} mentions {found}"
