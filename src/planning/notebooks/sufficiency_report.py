# %% tags=["parameters"]
# Parameters (Papermill overrides these): authority code or name, centres file, standards file.
authority = "E06000015"
centres = None
standards = None
report_date = None
# Scheduled runs (planning report --schedule): the previous report's figures.json, to open the
# report with what changed, and where to save this report's figures for the next comparison.
previous = None
figures_out = None
# Consultation evidence pack: a scenario YAML file (planning report --scenario FILE).
scenario = None
# Reach from registrations: a registration extract (reduced to protected small-area counts).
registrations = None
# Street network: an OpenStreetMap extract or GraphML file (planning report --network FILE).
network = None

# %%
import datetime as dt

from IPython.display import HTML, display

from planning.outputs import changes, consultation, report, services_report
from planning.runs.sufficiency import run_sufficiency

run = run_sufficiency(authority, centres=centres, standards=standards, network=network)
date = dt.date.fromisoformat(report_date) if report_date else dt.date.today()
display(report.title_block(run, date=date))
display(report.notes_block(run))

# %%
from planning.runs.sufficiency import run_uncertainty

sure = run_uncertainty(run)
figures = changes.report_figures(run, date=date, uncertainty=sure)
changes.save_figures(figures, figures_out)
display(changes.changes_block(figures, previous=previous))

# %% [markdown]
# ## Headline figures
# Under-5s are ONS mid-2020 estimates; those in income-deprived families are estimated with each
# area's IDACI rate (see the notes). "Within reach" is the straight-line distance from a point inside each small
# area (LSOA) to its nearest centre, against the standard below.

# %%
display(report.headline_cards(run))

# %% [markdown]
# ## Verdict and reasons
# The verdict is the worst of the rules below (standards at the end of this report).

# %%
display(report.reasons_block(run))

# %% [markdown]
# ## How sure are we?
# Small-area figures are estimates: how often would each verdict come out with plausible inputs?

# %%
from planning.outputs.uncertainty import uncertainty_block

display(HTML(str(uncertainty_block(run, sure))))

# %%
display(consultation.scenario_section(run, scenario))

# %%
display(services_report.services_section(run))

# %% [markdown]
# ## Map: need, centres, catchments and reach
# Shading is the need index; circles are centres (larger for hubs); outlines are catchments; rings
# show the reach standard and 1 mile; hatched areas are among the most deprived (as the standards define them) and out of reach.

# %%
display(report.report_map(run))
display(report.map_caption(run))

# %% [markdown]
# ## Access by deprivation

# %%
display(report.reach_by_deprivation_chart(run))
display(report.access_table(run))
display(report.network_section(run))

# %% [markdown]
# ## Localities

# %%
display(report.locality_table(run))

# %% [markdown]
# ## Centres

# %%
display(report.centre_load_chart(run))
display(report.centre_table(run))

# %% [markdown]
# ## Wards

# %%
display(report.ward_table(run))

# %%
display(report.targeting_section(run))

# %%
display(report.reach_section(run, registrations))

# %% [markdown]
# ## Standards applied

# %%
display(report.standards_table(run))

# %% [markdown]
# ## Data and sources

# %%
display(report.sources_block(run))
