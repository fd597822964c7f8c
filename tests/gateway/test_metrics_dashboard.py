"""The Grafana dashboard in docs/grafana and ``/metrics`` are one vocabulary: every metric a
panel queries is served, and every metric the gateway defines is on a panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.metrics import MetricWrapperBase

from gateway.observability import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "edigate.json"
METRIC = re.compile(r"\bedigate_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def _queried() -> dict[str, set[str]]:
    """Metric name -> titles of the panels (and variables) that query it."""
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            for name in METRIC.findall(target["expr"]):
                found.setdefault(name, set()).add(panel["title"])
    for variable in board["templating"]["list"]:
        for name in METRIC.findall(json.dumps(variable.get("query", ""))):
            found.setdefault(name, set()).add(f"${variable['name']}")
    return found


def _served(text: str) -> set[str]:
    """Every name /metrics serves: families (HELP/TYPE lines, also those without samples
    yet) and samples."""
    names = set()
    for line in text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def _family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


async def test_every_metric_the_dashboard_queries_is_served(client) -> None:
    resp = await client.get("/metrics")
    assert resp.status == 200
    served = _served(await resp.text())
    queried = _queried()
    assert len(queried) >= 15
    missing = {name: sorted(panels) for name, panels in queried.items()
               if name not in served and _family(name) not in served}
    assert not missing, f"the dashboard queries metrics /metrics does not serve: {missing}"


def test_every_gateway_metric_is_on_the_dashboard() -> None:
    defined: dict[str, Any] = {
        value._name: value for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)}
    queried = {_family(name).removesuffix("_total") for name in _queried()}
    assert len(defined) >= 15
    absent = sorted(name for name in defined if name.removesuffix("_total") not in queried)
    assert not absent, f"metrics no panel shows: {absent}"


def test_panels_are_laid_out_without_overlap_and_use_the_datasource_variable() -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"])
                for dy in range(pos["h"])}
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], panel["title"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
