"""The aiohttp application: REST API, HTTP EDI, AS2 endpoint, dashboard, health and metrics."""
