# %% tags=["parameters"]
# Councillors' dashboard, served by Voila (`make dashboard`). Parameters: the authority to open
# with (code or name), its centres file (default: its illustrative sites, as on the command
# line) and a standards file (default: the packaged standards.yaml).
authority = "E06000015"
centres = None
standards = None

# %%
from planning.apps.dashboard.view import build_dashboard

build_dashboard(authority, centres=centres, standards=standards)
