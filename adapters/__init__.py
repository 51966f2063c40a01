"""Infrastructure adapters.

Storage for things that are not events, settings, logging, the command line.
May import ledger; ledger never imports adapters.
"""
