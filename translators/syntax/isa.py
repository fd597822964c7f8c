"""ISA field checks: fixed widths and value shapes, each mapped to its own fault kind (and
through ``error_codes/syntax.toml`` to its TA1 note code)."""

from __future__ import annotations

from collections.abc import Iterator

from translators.syntax.tree import Segment

# (element, width, fault kind, what the value must look like: "an", "digits", or allowed set)
FIELDS: tuple[tuple[int, int, str, str], ...] = (
    (1, 2, "isa.authorization_qualifier", "digits"),
    (2, 10, "isa.authorization", "an"),
    (3, 2, "isa.security_qualifier", "digits"),
    (4, 10, "isa.security", "an"),
    (5, 2, "isa.sender_qualifier", "an"),
    (6, 15, "isa.sender_id", "an"),
    (7, 2, "isa.receiver_qualifier", "an"),
    (8, 15, "isa.receiver_id", "an"),
    (9, 6, "isa.date", "digits"),
    (10, 4, "isa.time", "digits"),
    (11, 1, "isa.standards_id", "an"),
    (12, 5, "isa.version", "digits"),
    (13, 9, "isa.control_number", "digits"),
    (14, 1, "isa.ack_requested", "01"),
    (15, 1, "isa.test_indicator", "PTI"),
    (16, 1, "isa.component_separator", "an"),
)


def check_isa(seg: Segment) -> Iterator[tuple[str, str, int]]:
    """(kind, message, element) for every ISA field that breaks the fixed format."""
    count = seg.element_count
    if count != 16:
        yield ("isa.element_count", f"ISA has {count} elements, not 16", min(count, 16) or 1)
    for element, width, kind, shape in FIELDS:
        if element > count:
            break
        value = seg.get(element)
        if len(value) != width:
            yield (kind, f"ISA{element:02d} {value!r} is {len(value)} characters wide, "
                         f"not {width}", element)
        elif shape == "digits" and not (value.isascii() and value.isdigit()):
            yield (kind, f"ISA{element:02d} {value!r} must be digits", element)
        elif shape not in ("an", "digits") and value not in shape:
            yield (kind, f"ISA{element:02d} {value!r} must be one of {', '.join(shape)}",
                   element)
