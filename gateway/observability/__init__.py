"""Logs, metrics and the correlation id that follows one document through every step."""
