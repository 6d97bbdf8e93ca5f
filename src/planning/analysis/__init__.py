"""Analysis: the measures, on arrays with thin GeoDataFrame adapters; no files, no HTML.

``distance`` (or ``network_distance``, along streets) → ``catchments`` → ``need`` →
``sufficiency`` → ``services`` → ``scenario_actions`` → ``scenarios`` (the engine, with
``scenario_results`` and ``scenario_comparison``) → ``allocation`` and ``service_placement``;
``uncertainty`` for how sure the verdicts are; ``disclosure`` (with ``disclosure_audit``) and
``targeting`` (+ ``targeting_model``) for registration data.
"""
