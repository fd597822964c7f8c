"""What every fuzzer here checks, and the inputs it starts from.

Shared by the hypothesis suite (``tests/fuzz``), the coverage-guided harnesses (``fuzz/``)
and the regression replay: each ``check_*`` function raises :class:`PropertyViolation` (or
lets an unexpected exception out) when a property breaks, and returns quietly otherwise.

Properties of ``translate`` on any bytes:

* it returns (no exception at all: it has no declared error type for bad input);
* the result is final: every message has one of the four statuses, every interchange an
  acknowledgment kind, the JSON error report and the events serialise;
* parsing is lossless: the tree writes back the exact input bytes;
* every acknowledgment can be built, parses clean with our parser and (997/999/CONTRL)
  validates against our grammar of it;
* time is bounded: well under a second of CPU per 100 kB.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from translators import build_acknowledgments, translate
from translators.result import TranslationResult
from translators.syntax import parse, serialize

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).with_name("regressions")
NOW = datetime(2026, 1, 2, 3, 4)
STATUSES = frozenset({"accepted", "accepted_with_errors", "rejected", "unsupported"})
ACK_KINDS = frozenset({"997", "999", "CONTRL", ""})
# CPU allowed: a fixed part (first use of a grammar loads and compiles it) plus a second per
# 100 kB.
CPU_FIXED, CPU_PER_100KB = 1.5, 1.0
# Warnings an acknowledgment of ours may get back: an echoed version we have no grammar of,
# and echoed ISO 8859-1 text whose bytes happen to read as UTF-8 too (a heuristic warning).
TOLERATED_WARNINGS = frozenset({"message.unsupported", "message.version_substituted",
                                "detect.charset_mismatch"})


class PropertyViolation(AssertionError):
    """A fuzzing property does not hold for an input."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise PropertyViolation(what)


def cpu_budget(size: int) -> float:
    return CPU_FIXED + CPU_PER_100KB * size / 100_000


# -- the properties -----------------------------------------------------------------------------
def check_parse(data: bytes) -> None:
    result = parse(data)
    _require(serialize(result) == data, "parse -> serialize does not reproduce the input")


def check_result(result: TranslationResult) -> None:
    for message in result.messages:
        _require(message.status in STATUSES, f"message status {message.status!r}")
        json.dumps(message.to_json(), default=str)
    for ir in result.interchanges:
        _require(ir.ack_kind in ACK_KINDS, f"ack kind {ir.ack_kind!r}")
    report = result.error_report()
    json.dumps(report, default=str)
    _require(report["error_count"] + report["warning_count"] == len(result.all_errors),
             "error report counts")


def check_acks(result: TranslationResult) -> int:
    counter = itertools.count(1)
    documents = build_acknowledgments(result, lambda scope: next(counter), NOW)
    for document in documents:
        parsed = parse(document.data)
        _require(parsed.ok, f"our {document.kind} does not parse: "
                            f"{[e.message for e in parsed.errors][:3]}")
        _require(len(parsed.interchanges) == 1, f"our {document.kind}: one interchange")
        if document.kind == "TA1":
            continue
        again = translate(document.data)
        faults = [e for e in again.all_errors
                  if e.severity == "error" or e.kind not in TOLERATED_WARNINGS]
        _require(not faults, f"our {document.kind} does not validate: "
                             f"{[(e.kind, e.message) for e in faults][:3]}")
    return len(documents)


def check_translation(data: bytes, *, acks: bool = True) -> TranslationResult:
    """Every property of translate on ``data`` (the acknowledgments too unless ``acks`` is
    False)."""
    start = time.process_time()
    result = translate(data)
    check_result(result)
    if acks:
        check_acks(result)
    spent = time.process_time() - start
    _require(spent < cpu_budget(len(data)), f"{spent:.2f} s CPU for {len(data)} bytes")
    check_parse(data)
    return result


# -- seeds -------------------------------------------------------------------------------------
def _builder_seeds() -> list[bytes]:
    from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12

    return [x12(PO_850), x12(PO_850, version="005010"), edifact(ORDERS),
            edifact(ORDERS, syntax="UNOC:4"), edifact(ORDERS, syntax="UNOA:3")]


def seed_files(extra: Sequence[Path] = ()) -> list[Path]:
    """Files to start from: the repository's corpus (``tests/corpus``) when there is one,
    else its own sample interchanges; plus ``extra`` folders."""
    folders = [ROOT / "tests" / "corpus"]
    if not folders[0].is_dir():
        folders = [ROOT / "docs" / "examples"]
    folders += list(extra)
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found += sorted(p for p in folder.rglob("*") if p.is_file()
                            and p.suffix.lower() not in (".md", ".json", ".toml", ".py")
                            and p.stat().st_size <= 2_000_000)
    return found


def seeds(extra: Sequence[Path] = ()) -> list[bytes]:
    return _builder_seeds() + [p.read_bytes() for p in seed_files(extra)]


# -- byte-level mutations -----------------------------------------------------------------------
DELIMITERS = b"'+:?*~>^|\r\n"
OPERATIONS = ("flip", "insert_delimiter", "truncate", "duplicate_segment", "delete_segment",
              "swap_segments", "huge_value", "non_ascii", "delete_range", "digits_in_place",
              "splice")


def _segments(data: bytes) -> tuple[bytes, list[bytes]]:
    """The likely segment terminator and the pieces it splits ``data`` into."""
    for terminator in (b"'", b"~", b"\n", b"\x85", b"\x1c"):
        if data.count(terminator) > 2:
            return terminator, data.split(terminator)
    return b"\n", data.split(b"\n")


def mutate(data: bytes, operation: str, where: float, size: int, byte: int,
           other: bytes = b"") -> bytes:
    """One mutation of ``data``: ``where`` in [0, 1) places it, ``size`` scales it, ``byte``
    picks a character."""
    n = len(data)
    at = int(where * (n + 1)) if n else 0
    if operation == "flip" and n:
        at = min(at, n - 1)
        return data[:at] + bytes([data[at] ^ (1 << (byte % 8))]) + data[at + 1:]
    if operation == "insert_delimiter":
        char = DELIMITERS[byte % len(DELIMITERS):][:1]
        return data[:at] + char * max(1, size % 8) + data[at:]
    if operation == "truncate":
        return data[:at]
    if operation in ("duplicate_segment", "delete_segment", "swap_segments"):
        terminator, pieces = _segments(data)
        if len(pieces) < 2:
            return data
        index = min(int(where * len(pieces)), len(pieces) - 1)
        if operation == "duplicate_segment":
            pieces[index:index] = [pieces[index]] * max(1, size % 50)
        elif operation == "delete_segment":
            del pieces[index]
        else:
            other_index = (index + 1 + size) % len(pieces)
            pieces[index], pieces[other_index] = pieces[other_index], pieces[index]
        return terminator.join(pieces)
    if operation == "huge_value":
        fill = (b"9", b"A", b"1.", b"?", b"-", b"E")[byte % 6]
        return data[:at] + fill * (size * 97 % 30_000 + 1) + data[at:]
    if operation == "non_ascii":
        return data[:at] + bytes([0x80 + byte % 0x80]) * max(1, size % 4) + data[at:]
    if operation == "delete_range":
        return data[:at] + data[at + size % 200:]
    if operation == "digits_in_place":
        end = at
        while end < n and data[end:end + 1].isalnum():
            end += 1
        return data[:at] + b"9" * (size * 131 % 6000 + 1) + data[end:]
    if operation == "splice" and other:
        cut = int(where * len(other))
        return data[:at] + other[cut:cut + 1 + size * 7 % 400] + data[at:]
    return data


def random_mutations(data: bytes, rng: random.Random, pool: Sequence[bytes] = (),
                     count: int | None = None) -> bytes:
    for _ in range(count if count is not None else rng.randint(1, 4)):
        data = mutate(data, rng.choice(OPERATIONS), rng.random(), rng.randrange(1 << 16),
                      rng.randrange(256), rng.choice(pool) if pool else b"")
    return data


# -- regressions -------------------------------------------------------------------------------
def regression_files() -> Iterator[Path]:
    if REGRESSIONS.is_dir():
        yield from sorted(p for p in REGRESSIONS.iterdir()
                          if p.is_file() and not p.name.startswith((".", "README")))


def save_regression(data: bytes, signature: str, target: str) -> Path:
    """Keep a failing input for good (its name: the target and a hash of the failure)."""
    import hashlib

    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(signature.encode() + data).hexdigest()[:16]
    path = REGRESSIONS / f"{target}-{digest}.bin"
    if not path.exists():
        path.write_bytes(data)
    return path


def failure_signature(exc: BaseException) -> str:
    """What makes two failures the same: the exception type and where it was raised (or the
    property's first words)."""
    import traceback

    if isinstance(exc, PropertyViolation):
        return "property: " + " ".join(str(exc).split()[:5])
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/translators/" in f.filename or "/gateway/" in f.filename]
    last = (ours or frames or [None])[-1]
    where = f"{Path(last.filename).name}:{last.lineno}" if last is not None else "?"
    return f"{type(exc).__name__} at {where}"


# -- rendering ----------------------------------------------------------------------------------
RENDER_PROFILES = (("x12", "004010"), ("x12", "005010"), ("edifact", "D96A"),
                   ("edifact", "D01B"))


def check_render(event_type: str, payload: object, standard: str, version: str,
                 *, must_validate: bool = False) -> bytes | None:
    """Rendering either refuses with RenderError (one line) or writes a document that parses
    clean and translates (and, for ``must_validate`` payloads, validates without an error)."""
    from translators.render import ControlNumbers, RenderError, RenderProfile, render_document

    profile = RenderProfile(standard=standard, version=version,  # type: ignore[arg-type]
                            sender_id="EDIGATE", sender_qualifier="ZZ",
                            receiver_id="PARTNER", receiver_qualifier="ZZ")
    try:
        data = render_document(event_type, payload,  # type: ignore[arg-type]
                               profile=profile, control=ControlNumbers(1, 2, 3), now=NOW)
    except RenderError as exc:
        _require("\n" not in str(exc), "a RenderError of one line")
        return None
    parsed = parse(data)
    _require(parsed.ok, f"rendered {event_type} does not parse: "
                        f"{[e.message for e in parsed.errors][:3]}")
    result = translate(data)
    check_result(result)
    if must_validate:
        faults = [(e.kind, e.message) for e in result.all_errors if e.severity == "error"]
        _require(not faults, f"rendered {event_type} {version} does not validate: {faults[:3]}")
    return data


def check_render_bytes(data: bytes) -> None:
    """A render case kept as bytes: a JSON object with event_type, standard, version and
    payload (what the render harness saves)."""
    try:
        case = json.loads(data.decode("utf-8", "surrogatepass"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    if not isinstance(case, dict):
        return
    check_render(str(case.get("event_type")), case.get("payload"),
                 str(case.get("standard", "x12")), str(case.get("version", "004010")))
