"""The one error model of the translators.

Every fault found anywhere — detection, envelope, segment syntax, grammar, code lists, partner
overlays — is an :class:`EdiError`. The JSON error report, the X12 997/999/TA1 and the EDIFACT
CONTRL are all generated from these objects, so they can never disagree.

``kind`` is our stable, standard-neutral name of the fault (``segment.unexpected``,
``element.too_long`` ...). The standard codes that each acknowledgment needs (AK3/AK4, IK3/IK4,
TA1 note, CONTRL UCx action/syntax error) are looked up from the data files in
``translators/error_codes/*.toml`` — one row per kind — so adding a fault means adding a row.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import asdict, dataclass, field, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

Level = Literal["interchange", "group", "message", "segment", "element"]
Severity = Literal["error", "warning"]

CODES_DIR = Path(__file__).with_name("error_codes")


@dataclass(frozen=True, slots=True)
class StandardCodes:
    """The codes one fault kind maps to in each acknowledgment vocabulary ("" = not applicable)."""

    x12_ta1: str = ""  # TA105 interchange note code
    x12_ak5: str = ""  # AK5/IK5 transaction set syntax error code (AK502..)
    x12_ak3: str = ""  # AK304 segment syntax error code (997)
    x12_ak4: str = ""  # AK403 element syntax error code (997)
    x12_ik3: str = ""  # IK304 (999)
    x12_ik4: str = ""  # IK403 (999)
    x12_ak9: str = ""  # AK905 functional group error code
    edifact: str = ""  # CONTRL syntax error code (0085 / 0081 etc.)


@cache
def code_table() -> dict[str, StandardCodes]:
    """Every fault kind with its standard codes, merged from all files in ``error_codes/``."""
    table: dict[str, StandardCodes] = {}
    for path in sorted(CODES_DIR.glob("*.toml")):
        with path.open("rb") as handle:
            rows = tomllib.load(handle)
        for kind, codes in rows.items():
            if kind in table:
                raise ValueError(f"{path.name}: fault kind {kind!r} is defined twice")
            table[kind] = StandardCodes(**codes)
    return table


def codes_for(kind: str) -> StandardCodes:
    return code_table().get(kind, StandardCodes())


@dataclass(slots=True)
class EdiError:
    """One fault, located as precisely as the input allows. Positions are 1-based, like the
    standards count them (segment position within the message counts the ST/UNH header as 1)."""

    kind: str
    message: str
    level: Level = "segment"
    severity: Severity = "error"
    standard: str = ""  # "x12" | "edifact" | ""
    interchange_control: str = ""
    group_control: str = ""
    message_control: str = ""
    message_type: str = ""
    segment_position: int | None = None
    segment_tag: str = ""
    element_position: int | None = None
    component_position: int | None = None
    repetition_position: int | None = None
    element_ref: str = ""  # data element reference number (X12 AK404 / IK404), if known
    bad_value: str = ""  # copy of the bad data (AK404/IK405), truncated
    offset: int | None = None
    line: int | None = None
    column: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> StandardCodes:
        return codes_for(self.kind)

    def to_json(self) -> dict[str, Any]:
        # (field by field, not dataclasses.asdict: that deep-copies recursively and cost
        # ~60 µs per fault, which a report of 100k faults paid in full)
        body = {name: value for name in _FIELDS
                if (value := getattr(self, name)) is not None and value != ""}
        if self.extra:
            body["extra"] = copy.deepcopy(self.extra)
        codes = _codes_json(self.kind)
        if codes:
            body["codes"] = dict(codes)
        return body


_FIELDS = tuple(f.name for f in fields(EdiError) if f.name != "extra")


@lru_cache(maxsize=1024)  # (bounded: kinds are ours, but cheap insurance)
def _codes_json(kind: str) -> dict[str, str]:
    return {k: v for k, v in asdict(codes_for(kind)).items() if v}


class EdiSyntaxError(ValueError):
    """Raised by strict entry points (``parse_strict``, the CLI) for the first fatal fault."""

    def __init__(self, error: EdiError) -> None:
        where = ""
        if error.line is not None:
            where = f"line {error.line}, column {error.column}, byte {error.offset}: "
        super().__init__(f"{where}{error.message}")
        self.error = error
