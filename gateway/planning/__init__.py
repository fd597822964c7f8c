"""The gateway side of planning: supply state from events, plan runs, approvals, outbox items."""
