"""Time the publication's disclosure audit on Derby and on the largest county.

Not a test: prints figures to quote. For each authority, a SYNTHETIC registration extract is
written by ``planning synthetic-registrations`` (the CLI, in this process) to a temporary
folder, read by :func:`planning.runs.reach.run_reach`, and the full publication audit is timed
as :func:`planning.runs.reach.publish_reach` runs it (the small-area protection, then one per
target group, then the age bands). The county is the largest English upper-tier authority by
LSOA count (``list_authorities``): Kent, 938 LSOAs; none reaches 1,000.

Printed per authority: the median time of ``publish_reach`` over ``--repeat`` runs, the linear
programmes solved (HiGHS runs; calls to ``linprog`` on versions before this one), the withheld
count (``PublishedReach.withheld``) and a digest of the suppression pattern (every cell's and
total's state in every protection), so that a run of this script on another version of the code
shows whether the pattern changed.

``--whole-table`` runs the audit without splitting it into components (one programme over the
whole table per check, the pre-component computation), on versions that have that switch.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_disclosure.py [--repeat 3] [--county Kent]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import planning.analysis.disclosure as disclosure
from planning.apps.cli import main as cli
from planning.inputs.areas import list_authorities
from planning.runs.reach import protect_counts, publish_reach, run_reach

try:  # the audit's solving function lives in its own module since the split
    import planning.analysis.disclosure_audit as solving
except ImportError:  # versions before it: all in disclosure
    solving = disclosure

AS_OF = "2025-03-31"
SEED = 42


class Counter:
    """Counts the linear programmes the audit solves.

    Wraps the module's one solving function: ``_run_highs`` (one HiGHS run) where it exists,
    else ``linprog`` (versions before the per-component audit).
    """

    def __init__(self) -> None:
        self.calls = 0
        self.name = "_run_highs" if hasattr(solving, "_run_highs") else "linprog"
        self.original = getattr(solving, self.name)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.original(*args, **kwargs)

    def __enter__(self) -> Counter:
        setattr(solving, self.name, self)
        return self

    def __exit__(self, *exc) -> None:
        setattr(solving, self.name, self.original)


def pattern_digest(protections: list) -> str:
    """SHA-256 (first 12 hex digits) of every state of every protection, in order."""
    h = hashlib.sha256()
    for p in protections:
        h.update(np.ascontiguousarray(p.cell_state.to_numpy(dtype=np.int8)).tobytes())
        for name in sorted(p.total_state):
            h.update(name.encode())
            h.update(np.ascontiguousarray(p.total_state[name].to_numpy(dtype=np.int8)).tobytes())
    return h.hexdigest()[:12]


def prepare(authority: str, sample: float) -> tuple[object, int]:
    """The reach result of a SYNTHETIC extract from ``planning synthetic-registrations``.

    ``sample`` < 1 keeps that fraction of the extract's rows (a sparser extract: more small
    counts, so more of the audit's work).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_synthetic.csv"
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli(["synthetic-registrations", "--authority", authority, "--out", str(path),
                        "--as-of", AS_OF])
        if code != 0:
            raise SystemExit(f"planning synthetic-registrations failed for {authority}")
        if sample < 1:
            extract = pd.read_csv(path, dtype=str, keep_default_na=False)
            extract.sample(frac=sample, random_state=SEED).to_csv(path, index=False)
        run = run_reach(authority, path, as_of=AS_OF)
    return run.result, len(run.result.areas)


def bench(label: str, result, threshold: int, repeat: int, whole_table: bool) -> None:
    import planning.runs.reach_publication as reach_module

    # Record every protection publish_reach decides (the main one, target groups, ages), and
    # the time spent deciding them (the audit itself, without building the tables).
    protections: list = []
    audit_time = [0.0]
    original_protect = disclosure.protect_counts
    switch = whole_table and "_components" in original_protect.__code__.co_varnames

    def recording(*args, **kwargs):
        if switch:
            kwargs["_components"] = False
        start = time.perf_counter()
        decided = original_protect(*args, **kwargs)
        audit_time[0] += time.perf_counter() - start
        protections.append(decided)
        return decided

    times, audits, lps = [], [], []
    for _ in range(repeat):
        protections.clear()
        audit_time[0] = 0.0
        reach_module.protect_counts = recording
        try:
            with Counter() as counter:
                start = time.perf_counter()
                published = publish_reach(result, threshold=threshold)
                times.append(time.perf_counter() - start)
        finally:
            reach_module.protect_counts = protect_counts
        audits.append(audit_time[0])
        lps.append(counter.calls)
    print(
        f"{label:<24} t={threshold:<2}  publish_reach {statistics.median(times):6.2f} s  "
        f"audit {statistics.median(audits):6.2f} s (runs {', '.join(f'{t:.2f}' for t in audits)})"
        f"  LPs {lps[0]:>5}  withheld {published.withheld:>5}  sensitive {len(published.audit):>5}"
        f"  pattern {pattern_digest(protections)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--county", default=None, help="default: the most LSOAs (Kent)")
    parser.add_argument("--only", choices=["derby", "county"], default=None)
    parser.add_argument("--thresholds", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--samples", type=float, nargs="+", default=[1.0, 0.05],
                        help="fractions of the extract's rows kept (1 = the whole extract)")
    parser.add_argument("--whole-table", action="store_true",
                        help="audit the whole table at once, not per component")
    args = parser.parse_args()
    authorities = list_authorities()
    county = args.county or str(authorities.sort_values("lsoa_count").iloc[-1]["name"])
    print(f"disclosure audit ({'whole table' if args.whole_table else 'default path'}), "
          f"median of {args.repeat}")
    names = [n for n, k in (("Derby", "derby"), (county, "county")) if args.only in (None, k)]
    for name in names:
        for sample in args.samples:
            result, n = prepare(name, sample)
            label = f"{name} {n} LSOAs" + (f" {sample:.0%}" if sample < 1 else "")
            for threshold in args.thresholds:
                bench(label, result, threshold, args.repeat, args.whole_table)


if __name__ == "__main__":
    main()
