"""Outputs: maps (with ``map_layers`` and ``offline_map``; the only place that reprojects to
WGS84), report rendering (``report``, ``report_charts``, ``report_render``), scheduled reports
(``schedule_file`` the format, ``scheduled_report`` one report, ``schedule`` many, on a process
pool or Dask, with ``warm_kernel``; ``report_index`` the index page), what changed between
reports, uncertainty charts and consultation evidence.
"""
