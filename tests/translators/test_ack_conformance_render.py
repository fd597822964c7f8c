"""Rendered DELFOR follows the segment table of the directory it declares.

Up to D96A the DELFOR detail is a section of its own: UNS+D, the line items (no GIS: that
group first appears in D96B), UNS+S. From D96B on there is no UNS at all and GIS opens each
group of line items.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from translators.render import ControlNumbers, RenderProfile, render_document
from translators.render.edifact import _gis_directory
from translators.syntax import parse

SCHEDULE = {
    "schedule_number": "S-1", "issue_date": "2024-03-01", "schedule_type": "forecast",
    "horizon_start": "2024-03-04", "horizon_end": "2024-03-31",
    "items": [{"buyer_part": "B-1", "unit": "EA", "order_number": "PO-1",
               "periods": [{"start": "2024-03-04", "quantity": 5},
                           {"start": "2024-03-11", "end": "2024-03-17", "quantity": 7}]},
              {"buyer_part": "B-2", "unit": "EA",
               "periods": [{"start": "2024-03-04", "quantity": 1}]}]}


def _tags(version: str) -> list[str]:
    profile = RenderProfile(standard="edifact", version=version, sender_id="BUYER",
                            sender_qualifier="ZZ", receiver_id="SUPPLIER",
                            receiver_qualifier="ZZ")
    data = render_document("delivery_schedule", SCHEDULE, profile=profile,
                           control=ControlNumbers(1, 2, 3), now=datetime(2024, 3, 1))
    message = parse(data).interchanges[0].messages[0]
    return [s.tag for s in message.segments]


@pytest.mark.parametrize("version", ["D96A"])
def test_delfor_up_to_d96a_has_a_uns_section_and_no_gis(version: str) -> None:
    tags = _tags(version)
    assert "GIS" not in tags
    assert tags.count("UNS") == 2
    first, last = tags.index("UNS"), len(tags) - 1 - tags[::-1].index("UNS")
    assert tags[first + 1] == "LIN"
    assert tags[last + 1:] == ["UNT"]
    assert all(first < i < last for i, t in enumerate(tags) if t in ("LIN", "PIA", "QTY"))


@pytest.mark.parametrize("version", ["D01B"])
def test_delfor_from_d96b_opens_its_items_with_gis_and_has_no_uns(version: str) -> None:
    tags = _tags(version)
    assert "UNS" not in tags
    assert tags.count("GIS") == 1
    assert tags[tags.index("GIS") + 1] == "LIN"


@pytest.mark.parametrize(("version", "gis"), [("D93A", False), ("D95B", False), ("D96A", False),
                                              ("D96B", True), ("D97A", True), ("D01B", True),
                                              ("D10B", True)])
def test_which_directories_have_gis(version: str, gis: bool) -> None:
    assert _gis_directory(version) is gis
