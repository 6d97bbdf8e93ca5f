# %% [markdown]
# # 4. Scenarios: what if a centre closes, or a new one opens?
#
# Compare the current network with a change: which small areas gain or lose reach, how centre
# loads move, and whether any locality's verdict changes. Closures need consultation (Childcare
# Act 2006 s.5D) and statutory guidance presumes against them unless outcomes for the most
# disadvantaged are not harmed: the figures below are the evidence for that test.
#
# **The change to test**, in the parameters below. By default the notebook closes the
# least-used centre and opens none: the closure a council is most likely to be asked about. For
# Derby's illustrative network that is CC10, and the figures move: small areas in the south
# lose reach and the neighbouring centres take on its under-5s.
#
# * `close`: the id of a centre to close (ids are in `03_sufficiency`); None = the centre with
#   the fewest under-5s in its catchment;
# * `open_postcode`: the postcode of a new branch centre, e.g. "DE21 4ET"; None = none, unless
#   `open_at_gap` is True;
# * `open_at_gap`: True opens a new branch centre, when no postcode is given, in the area the
#   closure leaves with the most under-5s in income-deprived families beyond reach;
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
# close, open_postcode, open_at_gap, scenario: the change to test (see above), e.g. for Derby
#   close = "CC03" and open_postcode = "DE21 4ET".
authority = "E06000015"
centres = None
standards = None
close = None
open_postcode = None
open_at_gap = False
scenario = None

# %%
from planning.apps import workbench

engine = workbench.scenario_engine(authority, centres=centres, standards=standards)
change = workbench.example_scenario(
    engine, close=close, open_postcode=open_postcode, open_at_gap=open_at_gap, scenario=scenario
)
comparison = engine.compare(change)
workbench.comparison_notes(comparison)

# %%
workbench.change_list(change)

# %% [markdown]
# ## What changes

# %%
workbench.comparison_summary(comparison)

# %% [markdown]
# ## Headline figures before and after
#
# Changes in shares are in percentage points; "within reach" is the reasonable-reach standard
# (2.5 km by default).

# %%
workbench.comparison_headline(comparison)

# %% [markdown]
# ## Map of the change
#
# Filled green areas gain reasonable reach and filled red areas lose it (hover for the area,
# its ward and its under-5s); areas whose reach does not change are not filled, only the grey
# ward outlines are drawn. Centres: a filled green circle is a centre opened, an empty red ring
# a centre closed, a filled dark grey circle a centre kept. The legend at the bottom right
# counts each; switch layers at the top right.

# %%
workbench.comparison_map(comparison)

# %% [markdown]
# ## Small areas that gain or lose reach

# %%
workbench.comparison_areas(comparison)

# %% [markdown]
# ## Centre loads
#
# Under-5s in each centre's catchment before and after, and its load status against the
# 600-1,200 range.

# %%
workbench.comparison_loads(comparison)

# %% [markdown]
# ## Locality verdicts

# %%
workbench.comparison_localities(comparison)

# %% [markdown]
# ## Under-5s within reach by national deprivation band

# %%
workbench.comparison_bands(comparison)

# %% [markdown]
# ## Every closure on its own, at a glance
#
# Where the change above stands among the alternatives: each of the council's centres closed on
# its own (nothing opened, the same standards), least harm to the most deprived areas first.
# These figures come from the scenario engine's headline path (arrays only, under a millisecond
# a closure), the same figures as the full comparison gives for that closure.

# %%
workbench.closure_table(engine)
