"""Runs: load → analyse → write, with provenance and atomic output folders.

``sufficiency`` (the assessment, across authority boundaries, and scenario comparisons),
``national`` (all England at once), ``reach`` (registration extracts; with ``reach_assessment``,
the measures, and ``reach_publication``, disclosure control) and ``targeting`` (gains, outreach,
the targeting model).
"""
