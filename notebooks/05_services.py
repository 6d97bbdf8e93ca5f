# %% [markdown]
# # 5. Services: family hubs, not just buildings
#
# A family hub is a place families go for services. This notebook reads each site's `services`
# against the service vocabulary (`src/planning/services.yaml`: the children's centre core
# purpose and the Family Hubs and Start for Life offer, DfE programme guide 2022), and asks,
# for the age range in the standards (family hubs: 0-19), who lives within reach of a site
# offering each service, which localities lack a universal service, and how branches link to
# their hubs. Sites with no services listed get an ILLUSTRATIVE offer (a hub the full list, a
# branch a documented subset), and every output says so.
#
# Previous: `04_scenarios`.

# %% tags=["parameters"]
# Parameters (Papermill overrides these).
# authority: upper-tier authority code or name, e.g. "E06000015" (Derby) or "Thurrock".
# centres: a centres file with a `services` column (and optionally `kind` hub/branch and `hub`);
#   None = illustrative sites for the authority, which are NOT the council's centres.
# standards: a standards YAML file that assesses services; None = the shipped family hubs
#   example (src/planning/examples/family_hubs.yaml: ages 0-19, services assessed).
# service: the service to place, and sites: how many sites to add it at.
authority = "E06000015"
centres = None
standards = None
service = "birth registration"
sites = 2

# %%
from planning.analysis.service_placement import place_service
from planning.apps import workbench
from planning.outputs import report, services_report

run = workbench.assess(authority, centres=centres, standards=standards or "family_hubs.yaml")
workbench.view(report.title_block(run), report.notes_block(run))

# %% [markdown]
# ## Reach per service and the services x localities matrix
#
# A service is within reach when a site offering it is within the reach standard. Universal
# services should be offered in every locality; a locality without one turns amber.

# %%
workbench.view(services_report.services_section(run))

# %% [markdown]
# ## The verdict with the service rules

# %%
workbench.view(report.reasons_block(run))

# %% [markdown]
# ## By locality
#
# The share of each locality's children within reach of a site offering each service.

# %%
workbench.table(run.services.locality_reach)

# %% [markdown]
# ## Hub and spoke
#
# Each branch's hub (the centres file's `hub` column, else the nearest hub) and how far it is.

# %%
workbench.table(run.services.hub_links)

# %% [markdown]
# ## Where to add a service
#
# The sites (the council's sites without it) at which adding the service brings the most
# children within reach (maximal covering, solved exactly).

# %%
placement = place_service(
    run.result.areas,
    run.result.supply,
    service=service,
    p=sites,
    standards=run.result.standards,
)
workbench.view(*placement.lines(run.result.supply["name"]))
