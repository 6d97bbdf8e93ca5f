"""The report notebook, and what an executed one becomes: a self-contained HTML page and a PDF.

:func:`report_notebook` is the notebook Papermill runs (shipped in the package).
:func:`render_html` renders an executed one with nbconvert's ``offline_report`` template to one
HTML page with no code cells and nothing fetched from a CDN, titled from the title block's output
(:data:`TITLE_METADATA`, :func:`notebook_title`); :func:`html_to_pdf` prints that page to PDF with
headless Chromium (:func:`find_chromium`), with no request leaving the machine.

The blocks the notebook shows are in :mod:`planning.outputs.report`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from planning import settings
from planning._errors import PlanningError

__all__ = [
    "CHROMIUM_FLAGS",
    "REPORT_NOTEBOOK",
    "TITLE_METADATA",
    "find_chromium",
    "html_to_pdf",
    "notebook_title",
    "render_html",
    "report_notebook",
]

REPORT_NOTEBOOK = "sufficiency_report.ipynb"


def report_notebook() -> Path:
    """The report notebook Papermill runs, shipped in the package (``planning/notebooks/``)."""
    return settings.package_path("notebooks", REPORT_NOTEBOOK)


#: Where a report notebook's title travels from the title block to the HTML ``<title>`` (and so
#: to the PDF's title): the display output's metadata, read back by :func:`render_html`.
TITLE_METADATA = "planning_report_title"


#: This thread's report exporter: set up (and its Jinja template compiled) once per thread, not
#: per report (about 0.15 s each in a schedule's worker); an exporter is not shared by threads.
_exporters = threading.local()


def _report_exporter() -> Any:
    """The nbconvert exporter of :func:`render_html`, made once per thread."""
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = _exporters.html = HTMLExporter(
            template_name="offline_report",
            extra_template_basedirs=[str(settings.package_path("templates"))],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
        )
    return exporter


def render_html(notebook: Path) -> str:
    """Render an executed notebook to one self-contained HTML page without code cells.

    Uses the ``offline_report`` template (the JupyterLab template without require.js, MathJax
    or Mermaid from a CDN) and embeds images; raises if any external script or stylesheet remains.
    """
    import nbformat

    from planning.outputs.offline_map import assert_offline

    exporter = _report_exporter()
    node = nbformat.read(notebook, as_version=4)
    title = notebook_title(node)
    if title:
        # the lab template's <title>; Chromium copies it into the PDF's metadata
        node.metadata["title"] = title
    body, _ = exporter.from_notebook_node(node)
    assert_offline(body)
    return body


def notebook_title(node: Any) -> str | None:
    """The report title an executed notebook's title block recorded (see :func:`title_block`),
    or ``None`` if no output carries one."""
    for cell in node.cells:
        for output in cell.get("outputs", []):
            metadata = output.get("metadata", {})
            for found in (metadata, *[v for v in metadata.values() if isinstance(v, dict)]):
                if isinstance(found.get(TITLE_METADATA), str):
                    return str(found[TITLE_METADATA])
    return None


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    # Print what the HTML holds and nothing more: no request leaves the machine (map tiles
    # included), so a scheduled PDF is reproducible and runs with no network.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
)


def find_chromium() -> str | None:
    """The Chromium executable for PDF output: ``$PLANNING_CHROMIUM`` or the first of
    ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH; ``None`` if none."""
    configured = os.environ.get("PLANNING_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(
    html_file: str | Path,
    pdf_file: str | Path,
    *,
    chromium: str | None = None,
    timeout: float = 180.0,
) -> Path:
    """Print an HTML report to PDF with headless Chromium (``--print-to-pdf``).

    Runs with a throwaway profile (``--user-data-dir``) and without background traffic, so it
    works unattended under cron or systemd. Raises :class:`PlanningError` if Chromium is missing,
    fails, or writes something that is not a PDF.
    """
    source, target = Path(html_file).resolve(), Path(pdf_file).resolve()
    executable = chromium or find_chromium()
    if executable is None:
        raise PlanningError(
            "PDF output needs Chromium, which was not found: install it (`make system-deps`) or "
            "set PLANNING_CHROMIUM to its path"
        )
    with tempfile.TemporaryDirectory(prefix="planning-chromium-", ignore_cleanup_errors=True) as p:
        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={p}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PlanningError(
                f"Chromium did not print {source.name} to PDF within {timeout:.0f} s"
            ) from None
    ok = target.is_file() and target.read_bytes()[:5] == b"%PDF-"
    if done.returncode != 0 or not ok:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise PlanningError(
            f"Chromium could not print {source.name} to PDF (exit status {done.returncode}):\n"
            f"{tail}"
        )
    return target
