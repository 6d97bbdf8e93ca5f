# %% [markdown]
# # 2. Access and catchments
#
# Which centre serves each small area, how far families are from it, and how many under-5s
# each centre's catchment holds.
#
# * **Catchment**: each small area (LSOA) is served by its nearest centre, in a straight line
#   from a point inside the area.
# * **Reach**: within 2.5 km (the IFS "pram-pushing distance"), within 1 mile, and within 30
#   minutes' walk (4 km/h, distance x 1.3 for the street network).
# * **Load**: under-5s in a centre's catchment, against about 800 (600-1,200; DCSF 2008).
#
# Previous: `01_need`. Next: `03_sufficiency`.

# %% tags=["parameters"]
# Parameters (Papermill overrides these).
# authority: upper-tier authority code or name, e.g. "E06000015" (Derby) or "Thurrock".
# centres: a centres file (CSV, GeoJSON, GPKG; format in src/planning/data/centres/README.md);
#   None = illustrative sites for the authority, which are NOT the council's centres.
# standards: a standards YAML file; None = the packaged defaults (src/planning/standards.yaml).
authority = "E06000015"
centres = None
standards = None

# %%
from planning.apps import workbench
from planning.outputs import report
from planning.outputs.maps import sufficiency_map

run = workbench.assess(authority, centres=centres, standards=standards)
s = run.result.standards
workbench.view(report.notes_block(run))

# %% [markdown]
# ## How many under-5s are within reach
#
# Shares of under-5s within each distance, for all areas, for the 30% most deprived areas
# nationally and for the rest: the equity split reviews of closures report.

# %%
workbench.view(report.access_table(run))

# %% [markdown]
# ## Map: distance, catchments and reach
#
# Shading is the straight-line distance from each area to its nearest centre. Thick blue
# outlines are catchments (hover for the centre and its under-5s); dashed purple rings are the
# reach standard and 1 mile; circles are centres (larger for family hubs; click for the
# centre's locality, type and load). Red-outlined areas, if any, are gaps: in the 30% most
# deprived and beyond reach.

# %%
sufficiency_map(
    run.result.areas,
    run.result.centres,
    column="distance_m",
    reach_metres=(s.reach_m, s.short_reach_m),
    title=f"{run.authority_name}: distance, catchments and reach",
    note="\n".join(run.result.notes),
)

# %% [markdown]
# ## Centres and their catchments
#
# Under-5s and children in income-deprived families in each centre's catchment, its load
# against the 600-1,200 range, and the share of its catchment within reach.

# %%
workbench.view(report.centre_table(run))

# %% [markdown]
# ## Access by ward

# %%
workbench.view(report.ward_table(run))
