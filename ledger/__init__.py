"""The kontraktledger domain: contracts, tariff models and sheets, prices.

This package is the core of the dependency rule: it imports only the standard
library, ``eventsourcing`` and small pure libraries (``python-stdnum``). It
must never import a web framework, a database driver, a settings framework or
a logging framework; import-linter enforces that.
"""
