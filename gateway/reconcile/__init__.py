"""The gateway side of reconciliation: runs in the database, stage changes, schedule, API pull.

The comparison itself is the pure :mod:`reconciler` package; this package feeds it events
from the database and stores what it finds.
"""
