"""The reports index page: ``<out>/index.html``, every run found under a reports folder.

:func:`write_index` lists every published and failed run (read from their ``manifest.json``,
written by :mod:`planning.outputs.scheduled_report`), newest first, with status, verdict, what
changed and links, and replaces the page atomically; :func:`check_index` refuses a page this tool
did not write. :func:`planning.outputs.schedule.run_schedule` rewrites the page after each report
(:mod:`planning.outputs.schedule` re-exports this module's names).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from planning._errors import ValidationError
from planning._html import Markup, render
from planning.outputs.scheduled_report import FAILED_DIR, MANIFEST, _now, _read_json

__all__ = ["INDEX", "INDEX_GENERATOR", "check_index", "write_index"]

INDEX = "index.html"
#: Marks an index page as the tool's own (a page without it is never overwritten).
INDEX_GENERATOR = "planning workbench reports index"


_INDEX_CSS = """
body { font-family: Arial, Helvetica, sans-serif; max-width: 1100px; margin: 1em auto;
       padding: 0 1em; }
table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; color: #fff;
         font-weight: bold; }
.ok { background: #1e8449; } .failed { background: #c0392b; }
.Red { background: #c0392b; } .Amber { background: #d68910; } .Green { background: #1e8449; }
.error { color: #922b21; font-size: 0.9em; }
.scenario { color: #6c3483; font-weight: bold; font-size: 0.9em; }
"""


#: Link text of each file kind on the index, and whether it is shown in bold (in this order).
_LINK_LABELS: dict[str, tuple[str, bool]] = {
    "html": ("report", True),
    "pdf": ("PDF", False),
    "error": ("error.txt", True),
    "notebook": ("notebook", False),
    "manifest": ("manifest", False),
    "figures": ("figures", False),
    "previous_figures": ("previous figures", False),
}


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _index_rows(root: Path) -> list[tuple[dict[str, Any], Path]]:
    found = []
    patterns = ("*/*/" + MANIFEST, f"{FAILED_DIR}/*/*/{MANIFEST}")
    for pattern in patterns:
        for path in root.glob(pattern):
            parts = path.relative_to(root).parts
            if any(p.startswith(".") for p in parts):
                continue  # staging folders of runs in progress
            if pattern.startswith("*") and parts[0] == FAILED_DIR:
                continue
            manifest = _read_json(path)
            if manifest is not None:
                found.append((manifest, path.parent))
    found.sort(key=lambda item: str(item[0].get("started", "")), reverse=True)
    return found


def _index_is_ours(page: Path) -> bool:
    try:
        head = page.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
    return f'<meta name="generator" content="{INDEX_GENERATOR}">' in head or (
        # indexes written before the generator tag was added
        head.startswith(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Children's centre sufficiency reports</title>"
        )
    )


def check_index(out: str | Path) -> None:
    """Refuse a reports folder whose ``index.html`` this tool did not write.

    Raises
    ------
    ValidationError
        Naming the page and the fix; nothing is overwritten.
    """
    page = Path(out) / INDEX
    if page.is_symlink() or (page.exists() and not page.is_file()):
        raise ValidationError(f"{page} is not a plain file; move it, or give another --out folder")
    if page.exists() and not _index_is_ours(page):
        raise ValidationError(
            f"{page} was not written by this tool, and the schedule would replace it with the "
            "reports index; move it, or give another --out folder"
        )


def _index_row(manifest: dict[str, Any], folder: Path, root: Path) -> dict[str, Any]:
    """What the index shows for one run (raw text: the template escapes it)."""
    status = str(manifest.get("status", "unknown"))
    authority = manifest.get("authority", {})
    shown = {**manifest.get("files", {}), "manifest": MANIFEST}
    order = list(_LINK_LABELS)
    links = [
        (_relative(folder / shown[kind], root), *_LINK_LABELS.get(kind, (kind, False)))
        for kind in sorted(shown, key=lambda k: order.index(k) if k in order else len(order))
        if (folder / shown[kind]).exists()
    ]
    changes = manifest.get("changes")
    verdict_change = [c for c in changes or [] if c.get("section") == "Verdict"]
    duration = manifest.get("duration_seconds")
    return {
        "report_date": str(manifest.get("report_date", "")),
        "authority_name": str(authority.get("name", "")),
        "authority_code": str(authority.get("code", "")),
        "status": status,
        "verdict": str(manifest["verdict"]) if manifest.get("verdict") else "",
        "error": str(manifest.get("error", "")) if status != "ok" else None,
        "changes": changes,
        "previous_date": str((manifest.get("previous") or {}).get("report_date", "")),
        "verdict_change": verdict_change[0] if verdict_change else None,
        "started": str(manifest.get("started", "")).replace("T", " ")[:16],
        "duration": "" if duration is None else f"{float(duration):.1f} s",
        "links": links,
        "scenario": str((manifest.get("scenario") or {}).get("name", "")) or None,
    }


def write_index(out: str | Path) -> Path:
    """Write ``<out>/index.html``: every run found under ``out`` (published and failed), newest
    first, with status, verdict, what changed and links. Self-contained (inline CSS, no
    scripts) and replaced atomically."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    entries = _index_rows(root)
    runs = [_index_row(manifest, folder, root) for manifest, folder in entries]
    failed = sum(1 for m, _ in entries if m.get("status") != "ok")
    page = render(
        "schedule_index.html.j2",
        generator=INDEX_GENERATOR,
        css=Markup(_INDEX_CSS),
        runs=runs,
        failed=failed,
        updated=_now().isoformat(timespec="seconds"),
    )
    target = root / INDEX
    check_index(root)
    handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=root)
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
    return target
