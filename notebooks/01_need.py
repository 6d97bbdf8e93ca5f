# %% [markdown]
# # 1. Where need is
#
# Where the children under 5 live in one authority, and where families in the greatest need
# live, from the open data shipped with the workbench (ONS population estimates, English
# Indices of Deprivation 2025). No centres yet: this is the demand side.
#
# **To use it:** set the authority in the parameters cell below (a code such as `E06000034` or a
# name such as `"Thurrock"`), then *Run > Run All Cells*. The map draws without an internet
# connection (only the street background needs one).
#
# Next: `02_access_and_catchments`.

# %% tags=["parameters"]
# Parameters (Papermill overrides these).
# authority: upper-tier authority code or name, e.g. "E06000015" (Derby) or "Thurrock".
# centres: a centres file (CSV, GeoJSON or GeoPackage); None = illustrative sites for the
#   authority (not used in this notebook; kept so every notebook takes the same parameters).
# standards: a standards YAML file; None = the packaged defaults (src/planning/standards.yaml).
authority = "E06000015"
centres = None
standards = None

# %%
from planning import resolve_authority
from planning.apps import workbench
from planning.inputs.areas import ATTRIBUTION
from planning.outputs.maps import need_map

code, name = resolve_authority(authority)
need = workbench.load_need(code, standards=standards)
workbench.need_headline(need)

# %% [markdown]
# ## Children by national deprivation band
#
# Small areas (LSOAs) are banded by their national IMD decile: `0-30%` is the 30% most deprived
# areas in England, the areas children's centres were first built to reach. Counts are summed
# (never averaged); the estimated under-5s in income-deprived families apply each area's IDACI
# rate to its under-5s; high-need areas are the fifth of areas with the highest need index.
# `workbench.need_summary(need)` gives the same figures as a DataFrame to work with.

# %%
workbench.need_table(need)

# %% [markdown]
# ## Map
#
# Switch layers in the control at the top right: the **need index** (on when the map opens),
# the **IMD score**, **children in income-deprived families (IDACI)** and **under-5s**, each
# with its own legend (Natural Breaks classes; the count of areas in each class is in
# brackets). Hover over an area for its name, ward and value.

# %%
need_map(need, title=f"{name}: where need is", note=ATTRIBUTION)

# %% [markdown]
# ## The highest-need areas
#
# The need index ranks areas *within* the authority from 0 (least need) to 100 (most): a
# weighted mean of normalised indicators, with the weights of the standards file.

# %%
workbench.need_weights_table(standards)

# %%
workbench.highest_need(need, 10)

# %% [markdown]
# ## By ward
#
# Wards ordered by the number of under-5s in income-deprived families.

# %%
workbench.need_table(need, by="ward_name")
