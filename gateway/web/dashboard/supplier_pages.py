"""Dashboard: the supplier scorecard, as charts first (on-time delivery and fill rate per
supplier), then the table with lead-time spread and acknowledgment rate."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.planning.scorecard import load_scorecard
from gateway.web.dashboard.charts import bar_chart
from gateway.web.dashboard.render import operator, render
from gateway.web.keys import RUNTIME

routes = web.RouteTableDef()


def _percent_bars(rows: list[dict[str, Any]], key: str) -> list[tuple[str, float]]:
    return [(r["supplier"], round(r[key] * 100, 1)) for r in rows if r.get(key) is not None]


@routes.get("/dashboard/suppliers")
async def suppliers_page(request: web.Request) -> web.Response:
    principal = await operator(request)
    runtime = request.app[RUNTIME]
    today = runtime.clock().date()  # the business calendar (a demo runs ahead)

    def load() -> list[dict[str, Any]]:
        with runtime.reads() as s:
            return load_scorecard(s, today)

    rows = await runtime.run(load)
    return render(
        request, "suppliers.html", principal=principal, rows=rows, today=today.isoformat(),
        on_time_chart=bar_chart(_percent_bars(rows, "on_time_rate"),
                                title="On-time delivery, % of shipped lines",
                                chart_id="on-time", value_format="{:.0f}%"),
        fill_chart=bar_chart(_percent_bars(rows, "fill_rate"),
                             title="Fill rate, % of due quantity shipped", chart_id="fill-rate",
                             value_format="{:.0f}%"))
