"""The dashboard's server-drawn charts: the numbers behind every point, readable axes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gateway.web.dashboard.charts import Series, line_chart
from gateway.web.dashboard.pages import _hourly_traffic

NOW = datetime(2026, 12, 4, 15, 7, tzinfo=UTC)


def _points(svg: str) -> dict[tuple[str, str], float]:
    return {(m[0], m[1]): float(m[2]) for m in re.findall(
        r'data-series="([^"]+)" data-x="([^"]+)" data-y="([^"]+)"', svg)}


def test_a_young_gateway_shows_five_minute_buckets() -> None:
    rows = [(NOW - timedelta(minutes=1), "as2"), (NOW - timedelta(minutes=2), "as2"),
            (NOW - timedelta(minutes=31), "sftp")]
    svg = _hourly_traffic(rows, NOW)
    assert "per 5 minutes" in svg
    points = _points(svg)
    assert points[("as2", "15:05")] == 2.0 and points[("sftp", "14:35")] == 1.0
    assert sum(points.values()) == 3.0


def test_older_traffic_is_counted_per_hour_and_old_rows_fall_outside() -> None:
    rows = [(NOW - timedelta(hours=5), "http"), (NOW - timedelta(hours=30), "http")]
    svg = _hourly_traffic(rows, NOW)
    assert "per hour" in svg
    points = _points(svg)
    assert points[("http", "10:00")] == 1.0 and sum(points.values()) == 1.0


def test_large_values_widen_the_axis_instead_of_being_clipped() -> None:
    small = line_chart([Series("a", [("x", 1.0), ("y", 2.0)])], title="t")
    large = line_chart([Series("a", [("x", 1.0), ("y", 2_500_000.0)])], title="t",
                       y_format="{:,.0f}")
    first_grid = re.compile(r'<line x1="(\d+)"')
    assert int(first_grid.search(large)[1]) > int(first_grid.search(small)[1])
    assert ">2,500,000<" in large
