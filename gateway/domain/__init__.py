"""The gateway's typed domain core: the statuses of its entities and their allowed changes.

Everything that changes a status goes through :func:`gateway.domain.states.transition`, and the
database refuses any value outside the enums (CHECK constraints derived from the same enums).
"""
