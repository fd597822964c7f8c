"""What the caller tells the renderer: the partner's dialect and the control numbers to use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from translators.syntax.tree import Delimiters

X12_VERSIONS = ("004010", "005010")
EDIFACT_VERSIONS = ("D96A", "D01B")
EDIFACT_CHARSETS = ("UNOA", "UNOB", "UNOC", "UNOY")


class RenderError(ValueError):
    """The payload cannot be written in the requested dialect (one line, says what and where)."""


@dataclass(frozen=True, slots=True)
class RenderProfile:
    standard: Literal["x12", "edifact"]
    version: str  # "004010" | "005010" | "D96A" | "D01B"
    sender_id: str
    sender_qualifier: str
    receiver_id: str
    receiver_qualifier: str
    delimiters: Delimiters | None = None  # None: the standard's usual set
    charset: str = ""  # EDIFACT UNOA/UNOB/UNOC/UNOY ("" = UNOC); X12 is always ASCII
    test_indicator: bool = False
    segment_suffix: str = ""  # "" | "\n" | "\r\n", written after each segment terminator

    def check(self) -> None:
        if self.standard == "x12":
            if self.version not in X12_VERSIONS:
                raise RenderError(f"X12 version {self.version!r} is not one of {X12_VERSIONS}")
            if self.charset not in ("", "ascii"):
                raise RenderError(f"X12 documents are ASCII; charset {self.charset!r} is invalid")
        elif self.standard == "edifact":
            if self.version not in EDIFACT_VERSIONS:
                raise RenderError(
                    f"EDIFACT version {self.version!r} is not one of {EDIFACT_VERSIONS}")
            if self.charset not in ("", *EDIFACT_CHARSETS):
                raise RenderError(f"EDIFACT charset {self.charset!r} is not one of "
                                  f"{EDIFACT_CHARSETS}")
        else:
            raise RenderError(f"unknown standard {self.standard!r} (x12 or edifact)")
        if self.segment_suffix not in ("", "\n", "\r\n"):
            raise RenderError("segment_suffix must be '', '\\n' or '\\r\\n'")
        for name in ("sender_id", "receiver_id"):
            if not getattr(self, name).strip():
                raise RenderError(f"{name} is empty")
        if self.delimiters is not None:
            self._check_delimiters(self.delimiters)

    def _check_delimiters(self, d: Delimiters) -> None:
        roles = {"segment": d.segment, "element": d.element, "component": d.component,
                 "repetition": d.repetition, "release": d.release}
        used = {name: c for name, c in roles.items() if c}
        for name, c in used.items():
            if len(c) != 1 or c.isalnum() or c.isspace():
                raise RenderError(f"{name} delimiter {c!r} must be one non-alphanumeric, "
                                  "non-blank character")
        if len(set(used.values())) != len(used):
            raise RenderError(f"delimiters must be distinct: {used}")
        for name in ("segment", "element", "component"):
            if name not in used:
                raise RenderError(f"the {name} delimiter is missing")
        if self.standard == "x12":
            if d.release:
                raise RenderError("X12 has no release character")
            if self.version >= "005010" and not d.repetition:
                raise RenderError("X12 005010 needs a repetition separator (ISA11)")
        if d.decimal not in (".", ","):
            raise RenderError(f"decimal mark {d.decimal!r} must be '.' or ','")


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    interchange: int
    group: int
    message: int

    def check(self, standard: str) -> None:
        limits = {"interchange": 999_999_999, "group": 999_999_999, "message": 999_999_999}
        if standard == "edifact":
            limits = {"interchange": 10**14 - 1, "group": 10**14 - 1, "message": 10**14 - 1}
        for name, limit in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
                raise RenderError(f"control number {name}={value!r} must be 1..{limit}")
