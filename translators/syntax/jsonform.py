"""The JSON form of a parse result or interchange, and back.

Segments carry ``elements`` (what readers want); ``raw`` is added only where the original text
differs from what the elements would serialize to (wrapped lines, unusual escaping), and
``tail`` only where it differs from the interchange default — so the JSON is readable and the
round trip JSON -> tree -> bytes stays byte-exact. Bytes outside interchanges are base64.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, fields
from typing import Any

from translators.errors import EdiError
from translators.syntax.codec import ElementCodec, SerializeError
from translators.syntax.reader import ParseResult
from translators.syntax.tree import Delimiters, Detection, Group, Interchange, Message, Segment

_ERROR_FIELDS = {f.name for f in fields(EdiError)}


def _segment(seg: Segment, codec: ElementCodec) -> dict[str, Any]:
    out: dict[str, Any] = {"tag": seg.tag, "elements": seg.elements}
    if seg.raw is not None:
        try:
            canonical = codec.encode(seg.tag, seg.elements)
        except SerializeError:
            canonical = None
        if canonical != seg.raw:
            out["raw"] = seg.raw
    if seg.tail is not None:
        out["tail"] = seg.tail
    out.update(offset=seg.offset, line=seg.line, column=seg.column)
    if seg.position:
        out["position"] = seg.position
    return out


def _interchange(ic: Interchange) -> dict[str, Any]:
    codec = ElementCodec(ic.delimiters, ic.standard)

    def seg(s: Segment | None) -> dict[str, Any] | None:
        return None if s is None else _segment(s, codec)

    layout = {k: v for k, v in ic.layout.items() if k != "lead"}
    out: dict[str, Any] = {
        "standard": ic.standard,
        "delimiters": asdict(ic.delimiters),
        "detection": asdict(ic.detection) if ic.detection is not None else None,
        "una": ic.una,
        "header": seg(ic.header),
        "extras": [seg(s) for s in ic.extras],
        "groups": [{
            "header": seg(g.header),
            "trailer": seg(g.trailer),
            "messages": [{
                "type": m.type, "version": m.version, "control": m.control,
                "identifier": m.identifier,
                "segments": [seg(s) for s in m.segments],
            } for m in g.messages],
        } for g in ic.groups],
        "trailer": seg(ic.trailer),
        "layout": layout,
    }
    if "lead" in ic.layout:
        out["lead_base64"] = base64.b64encode(ic.layout["lead"]).decode("ascii")
    return out


def to_json(obj: ParseResult | Interchange) -> dict[str, Any]:
    if isinstance(obj, Interchange):
        return _interchange(obj)
    return {
        "interchanges": [_interchange(ic) for ic in obj.interchanges],
        "errors": [e.to_json() for e in obj.errors],
        "trailing_base64": base64.b64encode(obj.trailing).decode("ascii"),
        "ok": obj.ok,
    }


def _load_segment(data: dict[str, Any] | None, codec: ElementCodec) -> Segment | None:
    if data is None:
        return None
    elements = data.get("elements")
    raw = data.get("raw")
    if raw is None and elements is not None:
        raw = codec.encode(data["tag"], elements)  # parsed text, so it encodes back exactly
        if elements != codec(raw):
            raw = None
    seg = Segment(data["tag"], None if raw is not None else elements,
                  data.get("offset", 0), data.get("line", 1), data.get("column", 1),
                  data.get("position", 0), raw, data.get("tail"), codec)
    return seg


def _load_interchange(data: dict[str, Any]) -> Interchange:
    delimiters = Delimiters(**data["delimiters"])
    codec = ElementCodec(delimiters, data["standard"])
    detection = Detection(**data["detection"]) if data.get("detection") else None
    header = _load_segment(data["header"], codec)
    assert header is not None
    groups = []
    for g in data["groups"]:
        messages = [Message(type=m["type"], version=m["version"], control=m["control"],
                            identifier=dict(m.get("identifier", {})),
                            segments=[s for s in (_load_segment(x, codec)
                                                  for x in m["segments"]) if s is not None])
                    for m in g["messages"]]
        groups.append(Group(header=_load_segment(g["header"], codec),
                            trailer=_load_segment(g["trailer"], codec), messages=messages))
    ic = Interchange(standard=data["standard"], delimiters=delimiters, header=header,
                     trailer=_load_segment(data.get("trailer"), codec), groups=groups,
                     detection=detection, una=data.get("una", ""),
                     extras=[s for s in (_load_segment(x, codec)
                                         for x in data.get("extras", [])) if s is not None],
                     layout=dict(data.get("layout", {})))
    if "lead_base64" in data:
        ic.layout["lead"] = base64.b64decode(data["lead_base64"])
    return ic


def from_json(obj: dict[str, Any]) -> ParseResult | Interchange:
    """The inverse of :func:`to_json` (a result for a result, an interchange for one)."""
    if "interchanges" not in obj:
        return _load_interchange(obj)
    errors = [EdiError(**{k: v for k, v in e.items() if k in _ERROR_FIELDS})
              for e in obj.get("errors", [])]
    return ParseResult(interchanges=[_load_interchange(ic) for ic in obj["interchanges"]],
                       errors=errors,
                       trailing=base64.b64decode(obj.get("trailing_base64", "")))
