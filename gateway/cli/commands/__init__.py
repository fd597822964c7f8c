"""One module per ``edigate`` sub-command; each exposes ``command`` (see :mod:`gateway.cli`)."""
