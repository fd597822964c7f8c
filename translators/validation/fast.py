"""Grammars compiled for speed: what ``validate_message`` needs, worked out once per message type.

Validating element by element in Python costs several microseconds per segment; a big file has
millions of them. Exact shortcuts, built lazily and cached per grammar:

* **Shapes.** The structure walk (order, loops, repeat counts, missing segments) looks at
  nothing but the sequence of segment tags, so its outcome is kept per tag sequence. Files
  repeat the same few shapes over and over.
* **Segment patterns.** Each segment definition becomes one regular expression (per delimiter
  set) that matches a segment text only if :func:`~translators.validation.segment.check_segment`
  would find no issue in it: lengths, types, code lists, mandatory and unused elements, extra
  elements and components, and the syntax rules (as look-aheads over element presence). All
  segments of a message are joined and matched in one call; only when that fails is each
  segment looked at on its own, and only a segment its pattern rejects gets the full check,
  which produces the issues. A pattern may reject a valid segment (a 29th of February, a
  number with an exponent, a release character inside a number): that only costs time.
  Segment texts a checker accepted are remembered (a bounded set), so a text that repeats
  across messages is matched once.
* **C predicate.** When the optional C module ``translators.validation._accel`` is built, a
  message's segment texts are first put to it: it answers only "would the element checks find
  nothing here?", True being a promise and False meaning "look again" (the patterns, then the
  element checks, which alone produce issues). EDIGATE_NO_C_ACCEL=1 (or ``accelerate =
  False``) turns it off, like the mapping engine's accelerator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from translators.grammar.model import ElementDef, Grammar, SegmentDef, SyntaxRule
from translators.syntax.tree import Segment
from translators.validation.segment import Issue
from translators.validation.structure import StructureWalker
from translators.validation.values import check_value

try:
    from translators.validation import _accel  # type: ignore[attr-defined]  # C, no stubs
except ImportError:  # built only where a C compiler was found (setup.py: optional)
    _accel = None  # type: ignore[assignment]

if _accel is not None:
    try:
        _accel.bind(Segment)
    except (TypeError, AttributeError):  # a Segment without the slots it reads: stay in Python
        _accel = None  # type: ignore[assignment]

accelerate = _accel is not None and os.environ.get("EDIGATE_NO_C_ACCEL", "") in ("", "0")

_TAG = attrgetter("tag")
_RAW = attrgetter("raw")
_ELEMENTS = attrgetter("_elements")  # None while a parsed segment was never decoded

_SHAPE_LIMIT = 4096  # distinct tag sequences remembered per grammar
# Compiling the patterns of a message type takes 20-100 ms: worth it for a big file or a busy
# process, not for one small file. They are built once a grammar has validated this many
# messages with one delimiter set (the element checks run as before until then).
WARM_UP_MESSAGES = 32
# Delimiter sets with patterns per grammar: senders choose delimiters, and each set costs a
# compilation; beyond this many, further sets are validated the plain way.
_CHECKER_LIMIT = 8
_NUMERIC_CHARS = set("0123456789.,-")
# Segment texts remembered as clean per checker (a set of strings: about 0.5 MB when full;
# emptied when full, which costs a few repeated matches).
_CLEAN_LIMIT = 4096
# Months with their valid days, days 29-31 only where every year has them (29 February is
# left to the full check).
_MONTH_DAY = ("(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
              "|(?:0[13578]|1[02])31)")


# ---------------------------------------------------------------------------------------------
# shapes


@dataclass(frozen=True, slots=True)
class Shape:
    """The structure walk of one tag sequence: which segments were placed (and so get their
    elements checked), the loop each one landed in, and the structure issues by index."""

    placed: tuple[int, ...]
    loops: tuple[str, ...]  # per segment index ("" when not placed)
    issues: tuple[tuple[int, Issue], ...]  # walker issues, in the walker's order
    complete: bool  # every segment placed


def _walk(grammar: Grammar, segments: Sequence[Segment], has_trailer: bool) -> Shape:
    walker = StructureWalker(grammar)
    placed: list[int] = []
    loops = [""] * len(segments)
    for index, segment in enumerate(segments):
        if walker.feed(segment):
            placed.append(index)
            loops[index] = walker.current_loop
    if segments:
        walker.finish(segments[-1], has_trailer)
    where = {id(segment): index for index, segment in enumerate(segments)}
    issues = tuple((where[id(segment)], issue) for segment, issue in walker.issues)
    return Shape(tuple(placed), tuple(loops), issues, len(placed) == len(segments))


# ---------------------------------------------------------------------------------------------
# segment patterns


class _Syntax:
    """Regular-expression pieces for one delimiter set (``released``: the text may hold the
    release character, which then escapes the character after it)."""

    def __init__(self, standard: str, element: str, component: str, repetition: str,
                 release: str, released: bool) -> None:
        self.standard = standard
        esc = re.escape
        self.E, self.C = esc(element), esc(component)
        seps = {element, component, repetition, "\n", "\r"} - {""}
        stop = seps | ({release} if release else set())
        self.stop = stop
        stop_class = "".join(esc(c) for c in sorted(stop))
        if released and release:
            self.char = f"(?:[^{stop_class}]|{esc(release)}[^\\n\\r])"
            skip = f"(?:[^{esc(element)}{esc(release)}\\n\\r]|{esc(release)}[^\\n\\r])*"
        else:
            self.char = f"[^{stop_class}]"
            skip = f"[^{esc(element)}\\n\\r]*"
        self.skip = skip  # the rest of one element, for presence look-aheads
        self.nonsep = "[^" + "".join(esc(c) for c in sorted(seps)) + "]"
        self.numeric = not (stop & _NUMERIC_CHARS)
        alpha = [chr(c) for c in range(0x20, 0x7F)
                 if not chr(c).isdigit() and chr(c) not in stop]
        self.alpha = "[" + "".join(esc(c) for c in alpha) + "]"
        # After an element: the next element, the next segment (batches) or the end.
        self.element_end = f"(?![^{esc(element)}\\n])"

    def value(self, element: ElementDef) -> str | None:
        """A non-empty value that ``check_value`` accepts; None when no value is accepted."""
        if element.codes is not None:
            codes = sorted(c for c in element.codes
                           if c and not (set(c) & self.stop)
                           and check_value(element, c, self.standard) is None)
            return _trie(codes) if codes else None
        low, high = max(element.min, 1), element.max
        if low > high:
            return None
        kind, char = element.type, self.char
        if self.standard == "x12":
            if kind in ("DT", "TM") or kind.startswith("N") or kind == "R":
                return self._x12_number(kind, low, high)
            return f"{char}{{{low},{high}}}"
        if kind == "n":
            if not self.numeric:
                return None
            return (f"-?(?=(?:[.,]?[0-9]){{{low},{high}}}[.,]?(?![0-9.,]))"
                    f"[0-9]+(?:[.,][0-9]*)?")
        if kind == "a":
            return f"{self.alpha}{{{low},{high}}}"
        if kind == "an":
            return f"{char}{{{low},{high}}}"
        return None

    def _x12_number(self, kind: str, low: int, high: int) -> str | None:
        if not self.numeric:
            return None
        if kind == "DT":
            forms = [f"[0-9]{{{size - 4}}}{_MONTH_DAY}" for size in (8, 6) if low <= size <= high]
            return f"(?:{'|'.join(forms)})" if forms else None
        if kind == "TM":
            return (f"(?=[0-9]{{{low},{high}}}(?![0-9]))"
                    "(?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9](?:[0-9]{1,2})?)?")
        if kind == "R":  # (one way only to match a given text: see Checker.batch)
            return (f"-?(?=(?:\\.?[0-9]){{{low},{high}}}\\.?(?![0-9.]))"
                    "(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)")
        return f"-?[0-9]{{{low},{high}}}"  # N, N0..N9

    def element(self, element: ElementDef) -> str | None:
        """One element (without its leading separator); None when it can never pass."""
        C = self.C
        if element.req == "N":
            return f"{C}*"
        if not element.components:
            value = self.value(element)
            if value is None:
                return None if element.req == "M" else f"{C}*"
            return f"{value}{C}*" if element.req == "M" else f"{_optional(value)}{C}*"
        present = self._composite(element.components)
        if element.req == "M":
            # Some component must hold data, or the whole composite is missing.
            return None if present is None else f"(?={C}*{self.nonsep}){present}"
        if present is None:
            return f"{C}*"
        # The look-ahead keeps the two branches apart: an empty composite has one reading.
        return f"(?:{C}*{self.element_end}|(?={C}*{self.nonsep}){present})"

    def _composite(self, parts: tuple[ElementDef, ...]) -> str | None:
        items: list[str] = []
        for part in parts:
            if part.req == "N":
                items.append("")
                continue
            value = self.value(part)
            if value is None:
                if part.req == "M":
                    return None
                items.append("")
            else:
                items.append(value if part.req == "M" else _optional(value))
        C = self.C
        tail = f"{C}*"  # components beyond the definition must be empty
        required = False
        for index in range(len(parts) - 1, 0, -1):
            required = required or parts[index].req == "M"
            body = f"{C}{items[index]}{tail}"
            tail = body if required else _optional(body)
        return items[0] + tail

    def presence(self, position: int, base: int) -> str:
        """Look-ahead body, from the start of element ``base``: element ``position`` (at or
        after ``base``) holds data."""
        skip = f"(?:{self.skip}{self.E}){{{position - base}}}" if position > base else ""
        return f"{skip}{self.C}*{self.nonsep}"

    def rule(self, rule: SyntaxRule, base: int) -> str:
        """A syntax rule as look-aheads from the start of its first element ``base``. A segment
        that ends before ``base`` has none of the rule's elements: that satisfies every kind
        but R, for which the caller makes element ``base`` required."""
        p = [self.presence(position, base) for position in rule.positions]
        if rule.kind == "P":  # (all absent, the usual case, is tried first)
            return "(?:" + "".join(f"(?!{x})" for x in p) + "|" + \
                "".join(f"(?={x})" for x in p) + ")"
        if rule.kind == "R":
            return "(?=" + "|".join(f"(?:{x})" for x in p) + ")"
        if rule.kind == "E":
            return "".join(f"(?!(?={a})(?={b}))" for i, a in enumerate(p) for b in p[i + 1:])
        if rule.kind == "C":
            return f"(?:(?!{p[0]})|" + "".join(f"(?={x})" for x in p[1:]) + ")"
        if rule.kind == "L":
            return f"(?:(?!{p[0]})|(?=" + "|".join(f"(?:{x})" for x in p[1:]) + "))"
        raise ValueError(f"unknown syntax rule kind {rule.kind!r}")

    def segment(self, definition: SegmentDef) -> str | None:
        E = self.E
        checks: dict[int, str] = {}  # element position -> rule look-aheads placed before it
        reach: set[int] = set()  # positions the segment must reach (R rules)
        for rule in definition.rules:
            base = min(rule.positions)
            checks[base] = checks.get(base, "") + self.rule(rule, base)
            if rule.kind == "R":
                reach.add(base)
        tail = f"(?:{E}{self.C}*)*"  # elements beyond the definition must be empty
        required = False
        for position in range(len(definition.elements), 0, -1):
            element = definition.elements[position - 1]
            pattern = self.element(element)
            if pattern is None:
                return None
            required = required or element.req == "M" or position in reach
            body = f"{E}{checks.get(position, '')}{pattern}{tail}"
            tail = body if required else _optional(body)
        return re.escape(definition.tag) + tail

    def after_tag(self, definition: SegmentDef) -> str | None:
        source = self.segment(definition)
        return None if source is None else source[len(re.escape(definition.tag)):]


def _optional(pattern: str) -> str:
    # An empty alternative rather than "?": the regex engine runs a group quantifier through
    # its general repeat machinery, measurably slower than a two-way branch.
    return f"(?:{pattern}|)"


def _dispatch(branches: dict[str, str]) -> str:
    """Patterns keyed by segment tag, as a trie over the tag's characters: a segment is sent
    to its pattern after a few character tests instead of trying every tag in turn."""
    heads: dict[str, dict[str, str]] = {}
    here: str | None = None
    for tag, rest in branches.items():
        if tag:
            heads.setdefault(tag[0], {})[tag[1:]] = rest
        else:
            here = rest
    options = [re.escape(head) + _dispatch(sub) for head, sub in sorted(heads.items())]
    if here is not None:
        options.append(here)  # a tag that ends here (its pattern starts with a separator)
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def _trie(words: list[str]) -> str:
    """An alternation of literal words, factored by first character (cheap to reject)."""
    heads: dict[str, list[str]] = {}
    end = False
    for word in words:
        if word:
            heads.setdefault(word[0], []).append(word[1:])
        else:
            end = True
    branches = [re.escape(head) + _trie(rests) for head, rests in sorted(heads.items())]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return _optional(body) if end else body


# ---------------------------------------------------------------------------------------------
# the C predicate's view of a grammar


# What values._check_type does per element type (the numbers are shared with _accel.c).
_CHECK_NONE, _CHECK_X12_DATE, _CHECK_X12_TIME, _CHECK_X12_INT, _CHECK_X12_REAL = range(5)
_CHECK_EDIFACT_NUMERIC, _CHECK_EDIFACT_ALPHA = 5, 6
_REQ_OPTIONAL, _REQ_NOT_USED, _REQ_MANDATORY = 0, 1, 2


def _check_of(kind: str, standard: str) -> int:
    if standard == "x12":
        if kind == "DT":
            return _CHECK_X12_DATE
        if kind == "TM":
            return _CHECK_X12_TIME
        if kind.startswith("N"):
            return _CHECK_X12_INT
        return _CHECK_X12_REAL if kind == "R" else _CHECK_NONE
    if kind == "n":
        return _CHECK_EDIFACT_NUMERIC
    return _CHECK_EDIFACT_ALPHA if kind == "a" else _CHECK_NONE


AccelElement = tuple[int, int, bool, int, int, frozenset[str] | None, tuple[Any, ...]]


def _accel_element(element: ElementDef, standard: str, top: bool) -> AccelElement:
    req = _REQ_MANDATORY if element.req == "M" else \
        _REQ_NOT_USED if element.req == "N" else _REQ_OPTIONAL
    if top and element.repeat < 1:
        req = _REQ_NOT_USED  # (present at all is one repetition too many)
    kind = element.type
    return (req, _check_of(kind, standard), kind in ("n", "R") or kind.startswith("N"),
            element.min, element.max, element.codes,
            tuple(_accel_element(part, standard, False) for part in element.components))


def _accel_plan(segments: dict[str, SegmentDef], standard: str, element: str, component: str,
                repetition: str, release: str) -> Any:
    """The segment definitions for ``_accel.Plan``; None when the delimiters are ones the C
    module does not split the way ElementCodec does (missing or shared characters)."""
    chars = [c for c in (element, component, repetition, release) if c]
    if _accel is None or not element or not component or len(set(chars)) != len(chars) \
            or {"\n", "\r"} & set(chars) or any(len(c) != 1 for c in chars):
        return None
    layout = {tag: (tuple(_accel_element(e, standard, True) for e in definition.elements),
                    tuple((rule.kind, rule.positions) for rule in definition.rules))
              for tag, definition in segments.items()}
    return _accel.Plan(element, component, repetition, release, layout)


class Checker:
    """Segment patterns of one grammar for one delimiter set and standard."""

    def __init__(self, grammar: Grammar, standard: str, element: str, component: str,
                 repetition: str, release: str) -> None:
        self.release = release
        self._syntaxes = {
            released: _Syntax(standard, element, component, repetition, release, released)
            for released in (False, True)}
        self._single: dict[tuple[str, bool], re.Pattern[str] | None] = {}
        self._batch: dict[bool, re.Pattern[str] | None] = {}
        self._segments = grammar.segments
        self._uses = 0
        self._clean: set[str] = set()  # segment texts clean_message accepted
        self._plan = _accel_plan(self._segments, standard, element, component, repetition,
                                 release)

    def warm(self) -> bool:
        """Count one message; True once the patterns are worth building (WARM_UP_MESSAGES)."""
        self._uses += 1
        return self._uses > WARM_UP_MESSAGES

    def _source(self, tag: str, released: bool) -> str | None:
        definition = self._segments.get(tag)
        if definition is None:
            return None
        return self._syntaxes[released].segment(definition)

    def single(self, tag: str, released: bool) -> re.Pattern[str] | None:
        key = (tag, released)
        if key not in self._single:
            source = self._source(tag, released)
            self._single[key] = None if source is None else re.compile(source)
        return self._single[key]

    def batch(self, released: bool) -> re.Pattern[str] | None:
        """All segment patterns as one alternation, for the segment texts of a message joined
        by line feeds (which no pattern lets through inside a segment)."""
        if released not in self._batch:
            syntax = self._syntaxes[released]
            rests = {tag: syntax.after_tag(definition)
                     for tag, definition in self._segments.items()}
            branches = {tag: rest for tag, rest in rests.items() if rest is not None}
            # Atomic: once a segment matched, a failure further on must not make the engine
            # try other readings of it (with several per segment, that is exponential).
            any_segment = f"(?>{_dispatch(branches)})"
            self._batch[released] = re.compile(f"{any_segment}(?:\\n{any_segment})*+") \
                if branches else None
        return self._batch[released]

    def clean(self, tag: str, raw: str) -> bool:
        """True when the segment text certainly has no element-level issue."""
        if accelerate and self._plan is not None and _accel.clean(self._plan, [raw]):
            return True
        pattern = self.single(tag, bool(self.release) and self.release in raw)
        return pattern is not None and pattern.fullmatch(raw) is not None

    def clean_segments(self, segments: list[Segment]) -> bool:
        """True when every segment of a message (all placed) is parsed, undecoded and has no
        element-level issue: ``segment_texts`` and ``clean_message``, with the C predicate
        reading the texts straight from the segments when it can."""
        if accelerate and self._plan is not None and type(segments) is list \
                and _accel.clean_segments(self._plan, segments):
            return True
        texts = segment_texts(segments)
        return texts is not None and self.clean_message(texts)

    def clean_message(self, raws: list[str]) -> bool:
        """True when no segment text of a message (all placed) has an element-level issue.

        Texts this checker found clean before are not matched again (parties, dates, units
        and item descriptions repeat from message to message). That is exact: the batch
        pattern judges each segment on its own (atomic, and nothing in it looks past a line
        feed), and its two forms (with and without release characters) accept the same texts
        that hold no release character. The C predicate needs no memory: it is cheaper than
        looking texts up."""
        if accelerate and self._plan is not None and _accel.clean(self._plan, raws):
            return True
        known = self._clean
        fresh = [raw for raw in raws if raw not in known]
        if not fresh:
            return bool(raws)  # (no segments: no joined text to match, as before)
        text = "\n".join(fresh)
        if text.count("\n") != len(fresh) - 1:
            return False  # a segment holds a line break itself: the join would be ambiguous
        pattern = self.batch(bool(self.release) and self.release in text)
        if pattern is None or pattern.fullmatch(text) is None:
            return False
        if len(known) + len(fresh) > _CLEAN_LIMIT:
            known.clear()
        known.update(fresh)
        return True


class CompiledGrammar:
    """Everything cached for one grammar: shapes and per-delimiter checkers."""

    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        self.shapes: dict[tuple[str, ...], Shape] = {}
        self.checkers: dict[tuple[str, str, str, str, str], Checker] = {}

    def shape(self, segments: Sequence[Segment], has_trailer: bool) -> Shape:
        # (has_trailer follows from the last tag)
        tags = _accel.tags(segments) if accelerate and type(segments) is list \
            else tuple(map(_TAG, segments))
        shape = self.shapes.get(tags)
        if shape is None:
            shape = _walk(self.grammar, segments, has_trailer)
            if len(self.shapes) >= _SHAPE_LIMIT:
                self.shapes.clear()
            self.shapes[tags] = shape
        return shape

    def checker(self, standard: str, element: str, component: str, repetition: str,
                release: str) -> Checker | None:
        key = (standard, element, component, repetition, release)
        checker = self.checkers.get(key)
        if checker is None:
            if len(self.checkers) >= _CHECKER_LIMIT:
                return None
            checker = self.checkers[key] = Checker(self.grammar, *key)
        return checker


def segment_texts(segments: Sequence[Segment]) -> list[str] | None:
    """The raw texts of a message's segments when all of them are parsed and undecoded (what
    the parser hands over), else None: a decoded segment's elements may have been changed."""
    texts = list(map(_RAW, segments))
    if None in texts or list(map(_ELEMENTS, segments)).count(None) != len(texts):
        return None
    return texts  # type: ignore[return-value]  # (no None left)


# Grammars are cached by the loader (and overlay results by apply_overlays) for the life of
# the process, so their identity is stable; the grammar is kept in the value so that an id is
# never reused while its entry lives.
_compiled: dict[int, CompiledGrammar] = {}


def compiled(grammar: Grammar) -> CompiledGrammar:
    entry = _compiled.get(id(grammar))
    if entry is None or entry.grammar is not grammar:
        entry = _compiled[id(grammar)] = CompiledGrammar(grammar)
    return entry
