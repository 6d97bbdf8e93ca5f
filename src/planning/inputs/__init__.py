"""Inputs: what the workbench reads, validated and projected to British National Grid once.

``areas`` (the embedded LSOA data), ``centres`` (centres files; with ``centre_rows``),
``locations`` (postcode look-up, placing points), ``safe_csv`` (CSV a spreadsheet cannot
execute), ``neighbours`` (other authorities' areas and centres), ``network`` (street networks),
``registrations`` (registration extracts reduced to small-area counts at load; with
``registration_columns`` and ``registration_rows``), ``illustrative`` (illustrative sites),
``gias`` (the DfE register), ``services`` (the service vocabulary), ``splits`` and ``synthetic``
(synthetic extracts). Imports only the underscore modules, ``settings`` and ``standards``.
"""
