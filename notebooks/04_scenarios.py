# %% [markdown]
# # 4. Scenarios: what if a centre closes, or a new one opens?
#
# Compare the current network with a change: which small areas gain or lose reach, how centre
# loads move, and whether any locality's verdict changes. Closures need consultation (Childcare
# Act 2006 s.5D) and statutory guidance presumes against them unless outcomes for the most
# disadvantaged are not harmed: the figures below are the evidence for that test.
#
# **The change to test**, in the parameters below:
#
# * `close`: the id of a centre to close (ids are in `03_sufficiency`); None = the centre with
#   the fewest under-5s in its catchment;
# * `open_postcode`: the postcode of a new branch centre; None = inside the area with the most
#   under-5s in income-deprived families left beyond reach;
# * or `scenario`: a scenario YAML file with any list of changes (open, close, move, capacity,
#   services, standard), e.g.
#
# ```yaml
# name: Close CC03, open at Derwent
# actions:
#   - close: CC03
#   - open: {id: NEW1, name: Derwent Community Centre, postcode: DE21 4ET, kind: branch}
# ```
#
# Previous: `03_sufficiency`.

# %% tags=["parameters"]
# Parameters (Papermill overrides these).
# authority: upper-tier authority code or name, e.g. "E06000015" (Derby) or "Thurrock".
# centres: a centres file (CSV, GeoJSON, GPKG; format in src/planning/data/centres/README.md);
#   None = illustrative sites for the authority, which are NOT the council's centres.
# standards: a standards YAML file; None = the packaged defaults (src/planning/standards.yaml).
# close, open_postcode, scenario: the change to test (see above), e.g. for Derby
#   close = "CC03" and open_postcode = "DE21 4ET".
authority = "E06000015"
centres = None
standards = None
close = None
open_postcode = None
scenario = None

# %%
from planning.apps import workbench

engine = workbench.scenario_engine(authority, centres=centres, standards=standards)
change = workbench.example_scenario(
    engine, close=close, open_postcode=open_postcode, scenario=scenario
)
comparison = engine.compare(change)
change.describe()

# %% [markdown]
# ## What changes

# %%
workbench.comparison_summary(comparison)

# %% [markdown]
# ## Headline figures before and after
#
# Shares are fractions (0.95 = 95%); the verdicts are in the summary above.

# %%
comparison.headline.round(3)

# %% [markdown]
# ## Map of the change
#
# Green areas gain reach, red areas lose it (hover for the area and its under-5s); green
# circles are centres opened, empty red rings centres closed, grey circles centres kept.

# %%
workbench.comparison_map(comparison)

# %% [markdown]
# ## Small areas that gain or lose reach

# %%
comparison.areas_changed.round(1)

# %% [markdown]
# ## Centre loads
#
# Under-5s in each centre's catchment before and after, and its load status against the
# 600-1,200 range.

# %%
comparison.loads.round(0)

# %% [markdown]
# ## Locality verdicts

# %%
comparison.localities.round(3)

# %% [markdown]
# ## Under-5s within reach by national deprivation band

# %%
comparison.bands.round(0)
