"""Outputs: maps (the only place that reprojects to WGS84), report rendering, scheduled reports,
what changed between reports and consultation evidence.
"""
