"""Inputs: what the workbench reads, validated and projected to British National Grid once.

``areas`` (the embedded LSOA data), ``centres`` (centres files, postcode look-up, CSV writing),
``registrations`` (registration extracts reduced to small-area counts at load), ``illustrative``
(illustrative sites), ``gias`` (the DfE register) and ``synthetic`` (synthetic extracts).
Imports only the underscore modules, ``settings`` and ``standards``.
"""
