"""Analysis: the measures, on arrays with thin GeoDataFrame adapters; no files, no HTML.

``distance`` (or ``network_distance``, along streets) → ``catchments`` → ``need`` →
``sufficiency`` (with ``sufficiency_counts`` and ``sufficiency_verdicts``) → ``services`` →
``scenario_actions`` → ``scenarios`` (the engine, with ``scenario_arrays``, ``scenario_search``,
``scenario_results`` and ``scenario_comparison``) → ``allocation`` (with ``allocation_program``)
and ``service_placement``; ``uncertainty`` (with ``uncertainty_draws`` and
``uncertainty_propagation``) for how sure the verdicts are; ``disclosure`` (with
``disclosure_rules`` and ``disclosure_audit``) and ``targeting`` (+ ``targeting_model``,
``targeting_features``) for registration data.
"""
