"""X12 HL trees: ids unique and ascending, parents that exist, allowed level nesting."""

from __future__ import annotations

from translators.grammar.model import HierarchyDef
from translators.syntax.digits import bounded_int, shown
from translators.syntax.tree import Segment
from translators.validation.segment import Issue


def check_hierarchy(definition: HierarchyDef, segments: list[Segment]) -> list[
        tuple[Segment, Issue]]:
    issues: list[tuple[Segment, Issue]] = []
    levels: dict[str, str] = {}  # HL01 id -> HL03 level code
    previous = 0
    for segment in segments:
        if segment.tag != definition.segment:
            continue
        hl_id, parent, level = segment.get(1), segment.get(2), segment.get(3)
        if hl_id in levels:
            issues.append((segment, Issue("hierarchy.duplicate_id",
                                          f"HL01 '{shown(hl_id)}' is used twice", 1, ref="628",
                                          bad_value=hl_id[:99])))
        number = bounded_int(hl_id)  # (ASCII digits only: "²".isdigit() is True)
        if hl_id not in levels and number is not None and number <= previous:
            issues.append((segment, Issue("hierarchy.order",
                                          f"HL01 '{shown(hl_id)}' does not follow "
                                          f"{previous}", 1,
                                          ref="628", bad_value=hl_id[:99])))
        if number is not None:
            previous = max(previous, number)
        if parent and parent not in levels:
            issues.append((segment, Issue("hierarchy.unknown_parent",
                                          f"HL02 parent '{shown(parent)}' is not an earlier "
                                          "HL01", 2, ref="734", bad_value=parent[:99])))
        allowed = definition.parents.get(level)
        if level and allowed is not None:
            parent_level = levels.get(parent, "") if parent else ""
            if parent_level not in allowed and not (parent and parent not in levels):
                above = shown(parent_level) or "the root"
                issues.append((segment, Issue(
                    "hierarchy.bad_parent",
                    f"HL level '{shown(level)}' may not sit under {above} "
                    f"(allowed: {', '.join(p or 'root' for p in allowed)})", 3, ref="735",
                    bad_value=level[:99])))
        levels.setdefault(hl_id, level)
    return issues
