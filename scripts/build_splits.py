"""Build ``src/planning/data/lsoa21_splits.csv``: the 2021 small areas whose under-5s were
apportioned from a 2011 area split between several 2021 areas.

Run by developers when the lookup changes (``python scripts/build_splits.py``); never at run
time. The uncertainty model (``planning/uncertainty.yaml``, ``apportionment``) redistributes a
group's under-5s among its areas; unchanged (U) and merged (M) areas moved whole and are not
listed.

Each row: ``area_code`` (LSOA 2021), ``group`` (the first 2011 code of its group) and
``change_code`` (S split, X irregular). Areas that share any 2011 parent are one group (an
irregular change can join two splits), so the group's total is what the split conserved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def split_groups(lookup: pd.DataFrame) -> pd.DataFrame:
    """Group 2021 areas that received under-5s from a shared, split 2011 area."""
    lookup = lookup[lookup.lsoa11_code.str.startswith("E")]
    children = lookup.groupby("lsoa11_code")["lsoa21_code"].nunique()
    split = lookup[lookup.lsoa11_code.isin(children.index[children > 1])]
    # Union-find over 2011 parents and 2021 children: connected components are the groups.
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for code11, code21 in zip(split.lsoa11_code, split.lsoa21_code):
        a, b = find("11:" + code11), find("21:" + code21)
        if a != b:
            parent[max(a, b)] = min(a, b)
    rows = split.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    group = {code21: find("21:" + code21) for code21 in rows.index}
    first11 = split.assign(root=split.lsoa21_code.map(group)).groupby("root")["lsoa11_code"].min()
    out = pd.DataFrame(
        {
            "area_code": rows.index,
            "group": [first11[group[c]] for c in rows.index],
            "change_code": rows["change_code"].to_numpy(),
        }
    )
    return out.sort_values(["group", "area_code"]).reset_index(drop=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("src/planning/data"))
    args = parser.parse_args()
    table = split_groups(
        pd.read_csv(args.source / "england" / "lookup_lsoa11_lsoa21_ltla22.csv.gz")
    )
    table.to_csv(args.out / "lsoa21_splits.csv", index=False)
    print(f"{len(table)} areas in {table['group'].nunique()} split groups")
