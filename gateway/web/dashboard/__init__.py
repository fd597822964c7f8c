"""The operators' dashboard: server-rendered pages, local assets, SVG charts.

Pages are plain aiohttp handlers that render Jinja2 templates; feature modules add their pages
to :data:`NAV` and register routes with :func:`page`. Login takes an operator token and keeps it
in an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token derived from it.
"""
