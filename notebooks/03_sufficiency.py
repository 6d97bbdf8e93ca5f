# %% [markdown]
# # 3. Sufficiency
#
# Is there "sufficient provision of children's centres to meet local need" (Childcare Act 2006
# s.5A)? The law sets no number, so the workbench applies the standards below and gives a
# red/amber/green verdict, with its reasons, for each locality and the authority.
#
# A verdict is the worst of four rules: the share of under-5s in the 30% most deprived areas
# within reach (green at 90% or more, amber at 75%), the share of all under-5s within reach
# (80%, 60%), under-5s per centre (amber above 1,200, red above 1,800) and any centre above
# 1,200 under-5s.
#
# Previous: `02_access_and_catchments`. Next: `04_scenarios`.

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

run = workbench.assess(authority, centres=centres, standards=standards)
workbench.view(report.title_block(run), report.notes_block(run))

# %% [markdown]
# ## Headline figures and the verdict

# %%
workbench.view(report.headline_cards(run))

# %%
workbench.view(report.reasons_block(run))

# %% [markdown]
# ## Localities
#
# Each small area belongs to the locality of the centre that serves it.

# %%
workbench.view(report.locality_table(run))

# %% [markdown]
# ## Map
#
# Need index shading; locality outlines coloured by their verdict (hover for the reasons);
# catchments; reach rings; gap areas in red; centres (click for the centre's load and its
# locality's verdict). Switch layers at the top right.

# %%
report.report_map(run)

# %% [markdown]
# ## Gaps
#
# Small areas in the 30% most deprived nationally that are beyond the reach standard, most
# under-5s first (`workbench.gap_areas(run.result)` gives them as a DataFrame).

# %%
workbench.gaps_table(run.result)

# %% [markdown]
# ## Centres and wards

# %%
workbench.view(report.centre_table(run))

# %%
workbench.view(report.ward_table(run))

# %% [markdown]
# ## Standards applied
#
# Copy `src/planning/standards.yaml`, change it and pass it as `standards` to test another
# standard.

# %%
workbench.view(report.standards_table(run))
