"""The councillors' dashboard: ``model`` (figures, no widgets), ``view`` (ipywidgets and
ipyleaflet) and ``server`` (Voila, locked down and bounded)."""
