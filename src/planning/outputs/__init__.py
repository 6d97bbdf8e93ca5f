"""Outputs: maps (the only place that reprojects to WGS84), report rendering, scheduled reports
(``schedule_file`` the format, ``scheduled_report`` one report, ``schedule`` many, on a process
pool or Dask, with ``warm_kernel``; ``report_index`` the index page), what changed between
reports, uncertainty charts and consultation evidence.
"""
