"""Element-level validation of one segment against its :class:`SegmentDef`.

Produces ``Issue`` tuples (kind, text, element, component, repetition, ref, bad value) rather
than full errors: identical segment texts give identical issues, so the caller can cache them
by the segment's raw text — the common case in large files full of repeated lines.
"""

from __future__ import annotations

from typing import NamedTuple

from translators.grammar.model import ElementDef, SegmentDef, SyntaxRule
from translators.validation.values import check_value


class Issue(NamedTuple):
    kind: str
    text: str
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    ref: str = ""
    bad_value: str = ""


def check_segment(definition: SegmentDef, elements: list[list[list[str]]],
                  standard: str) -> list[Issue]:
    issues: list[Issue] = []
    defs = definition.elements
    tag = definition.tag
    for index in range(len(defs), len(elements)):
        if any(any(rep) for rep in elements[index]):
            issues.append(Issue("element.too_many",
                                f"{tag} has data in element {index + 1}; it defines only "
                                f"{len(defs)}", index + 1))
            break
    present: set[int] = set()
    for index, element in enumerate(defs):
        position = index + 1
        reps = elements[index] if index < len(elements) else []
        if not any(any(rep) for rep in reps):
            if element.req == "M":
                issues.append(Issue("element.missing",
                                    f"mandatory element {tag}{position:02d} ({element.ref}) "
                                    "is missing", position, ref=element.ref))
            continue
        present.add(position)
        if element.req == "N":
            issues.append(Issue("element.not_used",
                                f"{tag}{position:02d} ({element.ref}) must not be sent",
                                position, ref=element.ref))
            continue
        if len(reps) > element.repeat:
            issues.append(Issue("element.too_many_repetitions",
                                f"{tag}{position:02d} repeats {len(reps)} times, at most "
                                f"{element.repeat} allowed", position, ref=element.ref))
        for rep_index, rep in enumerate(reps[:element.repeat], start=1):
            repetition = rep_index if element.repeat > 1 else None
            if element.components:
                _check_composite(issues, tag, position, element, rep, standard, repetition)
            else:
                if len(rep) > 1 and any(rep[1:]):
                    issues.append(Issue("element.too_many_components",
                                        f"{tag}{position:02d} is a simple element but holds "
                                        "components", position, None, repetition,
                                        element.ref))
                _check_simple(issues, tag, position, None, element, rep[0], standard,
                              repetition)
    for rule in definition.rules:
        _check_rule(issues, tag, rule, present, defs)
    return issues


def _check_composite(issues: list[Issue], tag: str, position: int, element: ElementDef,
                     rep: list[str], standard: str, repetition: int | None) -> None:
    parts = element.components
    for extra in range(len(parts), len(rep)):
        if rep[extra]:
            issues.append(Issue("element.too_many_components",
                                f"{tag}{position:02d} ({element.ref}) has data in component "
                                f"{extra + 1}; it defines only {len(parts)}", position,
                                extra + 1, repetition, element.ref))
            break
    for c_index, component in enumerate(parts):
        value = rep[c_index] if c_index < len(rep) else ""
        if not value:
            if component.req == "M":
                issues.append(Issue("element.missing",
                                    f"mandatory component {tag}{position:02d}-{c_index + 1} "
                                    f"({component.ref}) is missing", position, c_index + 1,
                                    repetition, component.ref))
            continue
        if component.req == "N":
            issues.append(Issue("element.not_used",
                                f"{tag}{position:02d}-{c_index + 1} ({component.ref}) must not "
                                "be sent", position, c_index + 1, repetition, component.ref))
            continue
        _check_simple(issues, tag, position, c_index + 1, component, value, standard,
                      repetition)


def _check_simple(issues: list[Issue], tag: str, position: int, component: int | None,
                  element: ElementDef, value: str, standard: str,
                  repetition: int | None) -> None:
    if not value:
        return
    fault = check_value(element, value, standard)
    if fault is not None:
        where = f"{tag}{position:02d}" + (f"-{component}" if component else "")
        issues.append(Issue(fault[0], f"{where} ({element.ref}): {fault[1]}", position,
                            component, repetition, element.ref, value[:99]))


def _check_rule(issues: list[Issue], tag: str, rule: SyntaxRule, present: set[int],
                defs: tuple[ElementDef, ...]) -> None:
    positions = rule.positions
    have = [p for p in positions if p in present]
    names = ", ".join(f"{tag}{p:02d}" for p in positions)
    if rule.kind == "P" and have and len(have) != len(positions):
        for p in positions:
            if p not in present:
                issues.append(Issue("element.conditional_missing",
                                    f"{tag}{p:02d} is required when any of {names} is present "
                                    f"(rule {rule.text})", p, ref=defs[p - 1].ref))
    elif rule.kind == "R" and not have:
        first = positions[0]
        issues.append(Issue("element.conditional_missing",
                            f"at least one of {names} is required (rule {rule.text})", first,
                            ref=defs[first - 1].ref))
    elif rule.kind == "E" and len(have) > 1:
        second = have[1]
        issues.append(Issue("element.exclusion",
                            f"only one of {names} may be present (rule {rule.text})", second,
                            ref=defs[second - 1].ref))
    elif rule.kind == "C" and positions[0] in present:
        for p in positions[1:]:
            if p not in present:
                issues.append(Issue("element.conditional_missing",
                                    f"{tag}{p:02d} is required when {tag}{positions[0]:02d} is "
                                    f"present (rule {rule.text})", p, ref=defs[p - 1].ref))
    elif rule.kind == "L" and positions[0] in present and len(have) == 1:
        second = positions[1]
        issues.append(Issue("element.conditional_missing",
                            f"one of {', '.join(f'{tag}{p:02d}' for p in positions[1:])} is "
                            f"required when {tag}{positions[0]:02d} is present "
                            f"(rule {rule.text})", second, ref=defs[second - 1].ref))
