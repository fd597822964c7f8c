"""Scheduled work (APScheduler): resume the inbox, reconcile, plan, dispatch."""
