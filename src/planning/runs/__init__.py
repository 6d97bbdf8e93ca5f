"""Runs: load → analyse → write, with provenance and atomic output folders.

``sufficiency`` (the assessment and scenario comparisons), ``reach`` (registration extracts,
disclosure control) and ``targeting`` (gains, outreach, the targeting model).
"""
