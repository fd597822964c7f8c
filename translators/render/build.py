"""Small helpers shared by the X12 and EDIFACT document builders."""

from __future__ import annotations

from typing import Any

from translators.mapping.values import MappingError, code_list, format_number
from translators.render.profile import RenderError
from translators.syntax.tree import Segment

Element = str | list[str] | None


def seg(tag: str, *elements: Element) -> Segment:
    """A segment from positional elements; a list is a composite. Trailing empty elements and
    components are dropped, as both standards require."""
    out: list[list[list[str]]] = []
    for element in elements:
        parts = list(element) if isinstance(element, list) else ["" if element is None else element]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        out.append([parts])
    while out and out[-1] == [[""]]:
        out.pop()
    return Segment(tag=tag, elements=out)


def text(value: Any) -> str:
    return "" if value is None else str(value)


def num(value: Any, decimal_mark: str = ".") -> str:
    if value is None:
        return ""
    try:
        return format_number(value, decimal_mark)
    except MappingError as exc:
        raise RenderError(str(exc)) from None


def code(list_name: str, value: Any) -> str:
    """Readable payload value -> the code we send, from the same code list the mapper reads."""
    if value is None or value == "":
        return ""
    try:
        return code_list(list_name).write(str(value))
    except MappingError as exc:
        raise RenderError(str(exc)) from None


def required(data: dict[str, Any], name: str, where: str) -> Any:
    value = data.get(name)
    if value is None or value == "" or value == []:
        raise RenderError(f"{where}: required field {name!r} is missing")
    return value


def gtin_qualifier_x12(gtin: str) -> str:
    return {14: "UK", 12: "UP"}.get(len(gtin), "EN")
