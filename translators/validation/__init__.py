"""Validation of one message against its grammar: structure, elements, syntax rules, HL trees.

    validate_message(message, grammar, standard=..., interchange_control=..., ...) -> errors

Every fault becomes a located :class:`~translators.errors.EdiError`; all of them are collected.
"""

from __future__ import annotations

from translators.errors import EdiError
from translators.grammar.model import Grammar, SegmentDef
from translators.syntax.tree import Delimiters, Message, Segment
from translators.validation import fast
from translators.validation.hierarchy import check_hierarchy
from translators.validation.segment import Issue, check_segment

__all__ = ["Issue", "check_segment", "validate_message"]

_CACHE_LIMIT = 50_000
# Faults reported per message: enough to fix any real document; a hostile one with a fault
# in each of a million segments must not cost a million error objects (acknowledgments
# carry at most 99 notes anyway).
MAX_MESSAGE_FAULTS = 500
# (id of the segment definition, raw segment text) -> issues. Repeated lines are common in
# big files; the issues depend on nothing else, so each distinct line is checked once.
_segment_cache: dict[tuple[int, str], list[Issue]] = {}


def _split(raw: str, delimiters: Delimiters | None) -> list[list[list[str]]] | None:
    """Elements straight from the raw text when no release or repetition character can occur
    in it (the common case) — several times cheaper than the general decoder."""
    if delimiters is None:
        return None
    # Release/repetition characters and wrapped lines need the full decoder.
    release, repetition = delimiters.release, delimiters.repetition
    if (release and release in raw) or (repetition and repetition in raw) \
            or "\n" in raw or "\r" in raw:
        return None
    component = delimiters.component
    return [[part.split(component)] for part in raw.split(delimiters.element)[1:]]


def _issues_for(definition: SegmentDef, segment: Segment, standard: str,
                delimiters: Delimiters | None) -> list[Issue]:
    raw = segment.raw
    if raw is None or segment.decoded:
        return check_segment(definition, segment.elements, standard)
    key = (id(definition), raw)
    cached = _segment_cache.get(key)
    if cached is None:
        elements = _split(raw, delimiters)
        cached = check_segment(definition, segment.elements if elements is None else elements,
                               standard)
        if len(_segment_cache) >= _CACHE_LIMIT:
            _segment_cache.clear()
        _segment_cache[key] = cached
    return cached


def validate_message(message: Message, grammar: Grammar, *, standard: str,
                     interchange_control: str = "", group_control: str = "",
                     delimiters: Delimiters | None = None) -> list[EdiError]:
    segments = message.segments
    compiled = fast.compiled(grammar)
    shape = compiled.shape(segments, bool(segments) and message.trailer is not None)
    located: list[tuple[Segment, Issue, str]] = []
    # Segment patterns need the delimiters the texts were written with (the façade passes
    # them); without them every segment gets the element checks below.
    checker = None
    if delimiters is not None:
        checker = compiled.checker(standard, delimiters.element, delimiters.component,
                                   delimiters.repetition,
                                   delimiters.release if standard == "edifact" else "")
        if checker is not None and not checker.warm():
            checker = None
    if not (checker is not None and shape.complete and checker.clean_segments(segments)):
        definitions = grammar.segments
        loops = shape.loops
        for index in shape.placed:
            segment = segments[index]
            raw = segment.raw
            # Only an undecoded segment is judged by its text: decoded elements may have been
            # changed in place.
            if checker is not None and raw is not None and not segment.decoded \
                    and checker.clean(segment.tag, raw):
                continue
            for issue in _issues_for(definitions[segment.tag], segment, standard, delimiters):
                located.append((segment, issue, loops[index]))
    if shape.issues:
        located.extend((segments[index], issue, "") for index, issue in shape.issues)
    if grammar.hierarchy is not None:
        located.extend((s, i, "HL") for s, i in check_hierarchy(grammar.hierarchy, segments))
    if not located:
        return []
    located.sort(key=lambda item: item[0].position)
    errors = []
    for segment, issue, loop in located[:MAX_MESSAGE_FAULTS]:
        errors.append(to_error(issue, segment, message, standard=standard, loop=loop,
                               interchange_control=interchange_control,
                               group_control=group_control))
    return errors


def to_error(issue: Issue, segment: Segment, message: Message, *, standard: str,
             loop: str = "", interchange_control: str = "",
             group_control: str = "") -> EdiError:
    missing = issue.kind == "segment.missing"
    error = EdiError(
        kind=issue.kind, message=issue.text,
        level="element" if issue.element is not None else "segment", standard=standard,
        interchange_control=interchange_control, group_control=group_control,
        message_control=message.control, message_type=message.type,
        segment_position=segment.position or None,
        segment_tag=issue.bad_value if missing else segment.tag,
        element_position=issue.element, component_position=issue.component,
        repetition_position=issue.repetition, element_ref=issue.ref,
        bad_value="" if missing else issue.bad_value,
        offset=segment.offset, line=segment.line, column=segment.column,
    )
    if loop:
        error.extra["loop"] = loop
    if missing:
        error.extra["noticed_at"] = segment.tag
    return error
