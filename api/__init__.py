"""The HTTP edge: a FastAPI application over the ledger and its read models.

Routes are thin: parse, authorise, call the application service or a view, and
map the result; domain errors become problem documents in one place. The HTTP
API arrives with issue 4.

This package may import ``adapters``, ``projections`` and ``ledger``; nothing
imports it (import-linter checks the layering).
"""
