"""Read models built from the ledger's events.

Each projection turns events into one view that answers one question, with its
own tracking position stored in the same transaction as its rows, so every
event is applied exactly once and every view can be dropped and rebuilt.

This package may import ``ledger``; it must never import ``api`` or
``adapters``, and projections do not import each other (import-linter checks
the layering).
"""
