"""Analysis: the measures, on arrays with thin GeoDataFrame adapters; no files, no HTML.

``distance`` → ``catchments`` → ``need`` → ``sufficiency`` → ``scenarios`` → ``allocation``;
``disclosure`` and ``targeting`` (+ ``targeting_model``) for registration data.
"""
