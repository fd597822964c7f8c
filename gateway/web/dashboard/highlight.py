"""The interchange page's error details: each error's standard code, and the raw bytes with the
faulty segment (and element, when the report names one) marked."""

from __future__ import annotations

from typing import Any

PREVIEW = 8192
# Which acknowledgment codes of an error's ``codes`` to show, by standard, most specific first.
CODE_KEYS = {"x12": (("x12_ak4", "AK403"), ("x12_ik4", "IK403"), ("x12_ak3", "AK304"),
                     ("x12_ik3", "IK304"), ("x12_ak5", "AK502"), ("x12_ak9", "AK905"),
                     ("x12_ta1", "TA105")),
             "edifact": (("edifact", "CONTRL"),)}


def standard_code(error: dict[str, Any], standard: str) -> str:
    """"AK403 7 · IK403 7" for X12, "CONTRL 12" for EDIFACT; the error's own code otherwise."""
    codes = error.get("codes") or {}
    keys = CODE_KEYS.get(standard) or tuple(p for ps in CODE_KEYS.values() for p in ps)
    found = [f"{label} {codes[key]}" for key, label in keys if codes.get(key)]
    return " · ".join(found) or str(error.get("code") or "")


def _separators(text: str) -> tuple[str, str]:
    """(segment terminator, element separator) of the interchange in ``text``."""
    start = text.lstrip("\ufeff\r\n\t ")
    if start.startswith("ISA") and len(start) > 105:
        return start[105], start[3]
    if start.startswith("UNA") and len(start) > 8:
        return start[8], start[4]
    return ("'", "+") if start.startswith("UN") else ("~", "*")


def highlight(raw: bytes, errors: list[Any]) -> list[dict[str, str]]:
    """The first ``PREVIEW`` bytes as chunks ``{"text", "cls", "title"}``: the segment holding
    an error's byte offset is ``hl-seg``, the element at its element position ``hl-el``."""
    text = raw[:PREVIEW].decode("latin-1")
    terminator, separator = _separators(text)
    marks: dict[int, tuple[int, int, int, int, str]] = {}  # seg start -> spans, title
    for error in errors:
        if not isinstance(error, dict) or not isinstance(error.get("offset"), int):
            continue
        offset = error["offset"]
        if not 0 <= offset < len(text):
            continue
        seg_start = text.rfind(terminator, 0, offset) + 1
        while seg_start < len(text) and text[seg_start] in "\r\n":
            seg_start += 1
        seg_end = text.find(terminator, offset)
        seg_end = len(text) if seg_end < 0 else seg_end + 1
        el_start = el_end = seg_start
        position = error.get("element_position")
        if isinstance(position, int) and position > 0:
            bounds = [seg_start - 1] + [i for i in range(seg_start, seg_end)
                                        if text[i] == separator] + [seg_end - 1]
            if position < len(bounds) - 1:
                el_start, el_end = bounds[position] + 1, bounds[position + 1]
        title = f"{error.get('segment_tag') or ''} {error.get('message') or ''}".strip()
        marks.setdefault(seg_start, (seg_start, seg_end, el_start, el_end, title))
    chunks: list[dict[str, str]] = []
    cursor = 0
    for seg_start, seg_end, el_start, el_end, title in sorted(marks.values()):
        if seg_start < cursor:
            continue  # two errors in one segment: the first one's marks stand
        chunks.append({"text": text[cursor:seg_start], "cls": "", "title": ""})
        if el_end > el_start:
            chunks += [{"text": text[seg_start:el_start], "cls": "hl-seg", "title": title},
                       {"text": text[el_start:el_end], "cls": "hl-el", "title": title},
                       {"text": text[el_end:seg_end], "cls": "hl-seg", "title": title}]
        else:
            chunks.append({"text": text[seg_start:seg_end], "cls": "hl-seg", "title": title})
        cursor = seg_end
    chunks.append({"text": text[cursor:], "cls": "", "title": ""})
    return [c for c in chunks if c["text"]]
