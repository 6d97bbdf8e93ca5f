"""Output folders that never destroy what the workbench did not create.

Every command that writes a folder (``sufficiency``, ``scenario``, ``optimise``, ``reach``,
``target`` and each scheduled report's ``<out>/<authority>/<date>/``) goes through
:func:`atomic_directory`. It

1. refuses folders that must never be replaced, ``--force`` or not: ``/``, the home folder, the
   current folder, the workbench's own repository, package and data folders, any folder inside
   the package or data folders, any ancestor of these, any git repository, and any folder that
   holds one of the run's own input files;
2. replaces an existing folder only when it is empty or is an earlier output of this tool, proved
   by the marker file ``.planning-output.json`` that lists every file the tool wrote with its
   SHA-256: a folder with a file the tool did not write (or a written file since edited) is
   refused unless the caller passes ``force=True`` (``--force``);
3. builds the new folder in a staging folder beside it (``.NAME.partial-XXXX``, which carries the
   process id that owns it) and publishes it with one rename, so an interrupted run leaves the
   old output intact; staging folders left by killed processes are removed at the next start,
   with a warning that says so;
4. publishes nothing once :func:`stop_publishing` has been called (a SIGTERM or SIGINT handler
   calls it), so a stopped schedule never publishes a report after the stop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from planning import settings
from planning._errors import PlanningError, ValidationError

logger = logging.getLogger(__name__)

#: The marker written into every output folder: the proof that the tool may replace it.
OUTPUT_MARKER = ".planning-output.json"
#: The marker written into a staging folder while it is being filled: who owns it.
STAGING_MARKER = ".planning-staging.json"
_WRITER = "planning"
_STOP = threading.Event()


class PublishingStopped(PlanningError):
    """Raised instead of publishing an output after :func:`stop_publishing`."""


def stop_publishing() -> None:
    """From now on, no output folder in this process is published (signal handlers call this)."""
    _STOP.set()


def publishing_stopped() -> bool:
    """Whether :func:`stop_publishing` has been called in this process."""
    return _STOP.is_set()


def file_sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed in 1 MiB chunks (for input hashes and output markers)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Which folders may be replaced


def input_label(path: str | Path) -> str:
    """How an input file is named in outputs (manifests, summaries, the report's inputs).

    A file shipped in the package is named by its place in the package
    (``planning/data/centres/derby_illustrative.csv``), a file under the data folder set by
    PLANNING_DATA_DIR relative to that folder, and a file under the current folder relative to
    it; only a file elsewhere keeps its absolute path (the user's own choice). So no output
    names the folder the package is installed in, the repository it was built from or a
    temporary folder; the SHA-256 written beside the name identifies the file's content.
    """
    resolved = Path(path).expanduser().resolve()
    data = Path(settings.DATA_DIR).resolve()
    cwd = Path.cwd().resolve()
    if _inside(resolved, settings.PACKAGE_DIR):
        return "planning/" + resolved.relative_to(settings.PACKAGE_DIR).as_posix()
    if _inside(resolved, data):
        return resolved.relative_to(data).as_posix()
    if _inside(resolved, cwd):
        return resolved.relative_to(cwd).as_posix()
    return str(resolved)


def protected_folders() -> dict[Path, str]:
    """Folders that are never replaced, with the reason shown in the refusal."""
    folders: dict[Path, str] = {
        Path("/").resolve(): "the file system root",
        Path.home().resolve(): "your home folder",
        Path.cwd().resolve(): "the current folder",
        settings.PACKAGE_DIR: "the planning package",
        Path(settings.DATA_DIR).resolve(): "the workbench's embedded data folder",
    }
    repository = settings.REPOSITORY_DIR
    if repository is not None:
        folders[repository] = "the workbench's repository"
    return folders


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def shipped_folder(path: Path) -> tuple[Path, str] | None:
    """The workbench's own folder (the package or its data folder) that holds ``path``, with
    its name for messages, or None: nothing may be written there."""
    for folder, what in (
        (settings.PACKAGE_DIR, "the planning package"),
        (Path(settings.DATA_DIR).resolve(), "the workbench's embedded data folder"),
    ):
        if _inside(path, folder):
            return folder, what
    return None


def why_protected(target: Path, *, inputs: Iterable[str | Path | None] = ()) -> str | None:
    """Why ``target`` must never be replaced (even with ``--force``), or None."""
    for folder, what in protected_folders().items():
        if _inside(folder, target):
            same = "is" if folder == target else "holds"
            return f"{target} {same} {what} ({folder})"
    shipped = shipped_folder(target)
    if shipped is not None:
        return f"{target} is inside {shipped[1]} ({shipped[0]})"
    for path in inputs:
        if path is None:
            continue
        source = Path(path).expanduser().resolve()
        if _inside(source, target):
            return f"{target} holds {source.name}, one of this run's own input files ({source})"
    if (target / ".git").exists():
        return f"{target} is a git repository"
    return None


def _listed_files(folder: Path) -> dict[str, Path]:
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() or path.is_symlink()
    }


def _foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that the tool did not write (or that changed since it wrote them)."""
    found = _listed_files(folder)
    try:
        marker = json.loads((folder / OUTPUT_MARKER).read_text(encoding="utf-8"))
        written = dict(marker["files"]) if marker.get("written_by") == _WRITER else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        written = {}
    foreign = []
    for name, path in found.items():
        if name == OUTPUT_MARKER:
            continue
        if name not in written or path.is_symlink() or file_sha256(path) != written[name]:
            foreign.append(name)
    if found and not written:  # no (valid) marker: nothing here is provably ours
        return [name for name in found if name != OUTPUT_MARKER] or [OUTPUT_MARKER]
    return foreign


def check_output_folder(
    target: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
    option: str = "--out",
) -> Path:
    """Check that ``target`` may be (re)written as an output folder; return it resolved.

    Raises
    ------
    ValidationError
        If ``target`` is a protected folder, holds an input file, sits below a regular file, is
        itself a file, or (without ``force``) holds anything this tool did not write.
    """
    target = Path(target).expanduser().resolve()
    for parent in [target, *target.parents]:
        if parent.exists() and not parent.is_dir():
            if parent == target:
                raise ValidationError(
                    f"{option} {target}: this is a file, not a folder; give a new or empty "
                    "folder for the outputs"
                )
            raise ValidationError(
                f"{option} {target}: {parent} is a file, so no folder can be made below it; "
                "give a folder path that does not pass through a file"
            )
    reason = why_protected(target, inputs=inputs)
    if reason is not None:
        raise ValidationError(
            f"{option} {reason}; the workbench never replaces it. Give a new or empty folder "
            "for the outputs, e.g. out/derby"
        )
    if target.is_dir() and not force:
        foreign = _foreign_files(target)
        if foreign:
            shown = ", ".join(foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            )
            raise ValidationError(
                f"{option} {target} already holds files this tool did not write ({shown}); it "
                "replaces only empty folders and its own earlier outputs. Choose a new folder, "
                "move those files, or pass --force to replace the folder and everything in it"
            )
    return target


# --------------------------------------------------------------------------------------------
# Staging folders and publication


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(staging: Path) -> bool:
    """A staging folder whose owning process is gone (on this machine)."""
    try:
        owner = json.loads((staging / STAGING_MARKER).read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not provably ours: leave it alone
    return host == socket.gethostname() and not _pid_alive(pid)


def remove_stale_staging(parent: str | Path) -> list[Path]:
    """Remove staging folders in ``parent`` left by killed runs; restore a backup whose
    replacement never arrived. Returns what was cleaned up; each is logged as a warning.

    Only folders named like this module's staging folders *and* carrying its owner marker with a
    dead process id are touched.
    """
    parent = Path(parent)
    cleaned: list[Path] = []
    if not parent.is_dir():
        return cleaned
    for path in sorted(parent.glob(".*.partial-*")):
        if path.is_dir() and _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            logger.warning("removed %s, left half-written by an interrupted run", path)
            cleaned.append(path)
    for path in sorted(parent.glob(".*.old-*")):
        if not path.is_dir() or _foreign_files(path):
            continue
        original = path.with_name(path.name[1:].rsplit(".old-", 1)[0])
        if not original.exists():
            path.rename(original)
            logger.warning("restored %s from %s after an interrupted replacement", original, path)
        else:
            shutil.rmtree(path, ignore_errors=True)
            logger.warning("removed %s, an old output left by an interrupted replacement", path)
        cleaned.append(path)
    return cleaned


def _write_marker(staging: Path, *, kind: str) -> None:
    files = {
        name: file_sha256(path)
        for name, path in _listed_files(staging).items()
        if name not in (OUTPUT_MARKER, STAGING_MARKER)
    }
    marker = {
        "written_by": _WRITER,
        "planning_version": settings.VERSION,
        "kind": kind,
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "note": "Written by the planning workbench: it may replace this folder only while every "
        "file here is listed below, unchanged.",
        "files": files,
    }
    (staging / OUTPUT_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(
    target: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
    kind: str = "output",
    option: str = "--out",
) -> Iterator[Path]:
    """Yield a staging folder beside ``target``; on success it replaces ``target`` in one rename.

    ``target`` is checked first with :func:`check_output_folder` (``inputs`` are the run's input
    files, ``force`` allows replacing a folder with files the tool did not write). On any error,
    or once :func:`stop_publishing` has been called, the staging folder is removed and ``target``
    is left as it was, so a failed or stopped run never leaves a half-written output folder.
    """
    inputs = list(inputs)
    target = check_output_folder(target, inputs=inputs, force=force, option=option)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    # mkdtemp makes a private (0700) folder; the published one is for colleagues to read, like
    # any folder made with mkdir (0755 under the usual umask 022).
    staging.chmod(0o777 & ~_umask())
    try:
        owner: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname()}
        (staging / STAGING_MARKER).write_text(json.dumps(owner), encoding="utf-8")
        yield staging
        (staging / STAGING_MARKER).unlink()
        _write_marker(staging, kind=kind)
        # Check again: the folder may have changed while the run worked.
        check_output_folder(target, inputs=inputs, force=force, option=option)
        if publishing_stopped():
            raise PublishingStopped(f"stopped before publishing {target}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{staging.name[-8:]}")
        target.rename(backup)
    staging.rename(target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# JSON that any strict parser reads


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: NumPy and pandas scalars unwrapped, NaN/NA/inf as None,
    tuples as lists, paths and dates as text, recursively.

    >>> json_safe({"share": float("nan"), "n": (1, 2)})
    {'share': None, 'n': [1, 2]}
    """
    import math

    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str,)):
        return value
    if isinstance(value, (Path, dt.date, dt.datetime, pd.Timestamp)):
        return str(value) if isinstance(value, Path) else value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def write_json(path: str | Path, value: Any, *, indent: int = 2) -> Path:
    """Write ``value`` as strict JSON (no NaN or Infinity tokens), UTF-8."""
    path = Path(path)
    text = json.dumps(json_safe(value), indent=indent, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
