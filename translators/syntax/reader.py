"""The reader: bytes in (all at once or chunk by chunk), segments out to the assembler.

One code path serves :func:`parse` (a single final chunk) and the streaming iterators (many
chunks). Per interchange: detect the header, decode the rest with the detected codec
(``surrogateescape`` so any byte survives), split the text on the segment terminator — on
terminator + cosmetic suffix when every terminator carries it — rejoin pieces whose terminator
was released, and hand segments over with their raw text. Elements are decoded lazily. Bytes
between interchanges (BOM, junk, whitespace) are kept in ``Interchange.layout["lead"]`` and
``ParseResult.trailing`` so that serialization is byte-exact.

When an interchange ends, the text after it goes back to bytes for the next header's detection.
The next interchange then starts on a window of that remainder (about twice the size of the one
before) rather than on all of it, the rest following in windows that grow while it lasts:
re-reading the whole remainder for every interchange made a file of 1500 interchanges
quadratic. A remainder of up to ``_GIVE_BACK_LIMIT`` bytes is still read in one piece.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections import deque
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import add
from typing import Any

from translators.errors import EdiError
from translators.syntax.assemble import COMPLETE, NEW_INTERCHANGE, STRAY, Assembler
from translators.syntax.codec import ElementCodec
from translators.syntax.detect import Header, Refusal, find_bom, find_start, read_header
from translators.syntax.faults import MAX_FAULTS, capped, fault
from translators.syntax.source import TextSource
from translators.syntax.tree import Interchange, Segment, parsed_segment

WHITESPACE = " \t\r\n"
_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_SIGNATURE_TAIL = 2  # bytes kept back while seeking: a header signature may straddle chunks
# Input left after a closed interchange that is longer than this is read in windows (see the
# module docstring); less is read whole, as it always was.
_GIVE_BACK_LIMIT = 1 << 14
# Window sizes: twice the previous interchange, within these bounds; what is left of a window
# when an interchange closes in it is read again for the next one.
_WINDOW_MIN = 1 << 10
_WINDOW_MAX = 1 << 20


@dataclass(slots=True)
class ParseResult:
    interchanges: list[Interchange] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)
    trailing: bytes = b""  # bytes after the last interchange (or all bytes if none was found)

    @property
    def ok(self) -> bool:
        return bool(self.interchanges) and not any(e.severity == "error" for e in self.errors)

    @property
    def warnings(self) -> list[EdiError]:
        return [e for e in self.errors if e.severity == "warning"]


class _Open:
    """State of the interchange being read."""

    __slots__ = (
        "asm",
        "byte_base",
        "carry",
        "charset_checked",
        "charset_pending",
        "codec",
        "column_base",
        "decoder",
        "encoding",
        "header",
        "line_base",
        "pre",
        "prev",
        "suffix",
        "tag_kinds",
        "term",
        "text",
        "windowed",
    )

    def __init__(self, header: Header, asm: Assembler) -> None:
        self.header = header
        self.asm = asm
        d = header.delimiters
        self.codec = ElementCodec(d, header.standard)
        self.encoding = header.encoding
        self.decoder = codecs.getincrementaldecoder(header.encoding)("surrogateescape")
        self.text = ""
        self.byte_base = header.start
        self.line_base = 1
        self.column_base = 1
        self.prev: Segment | None = None
        self.pre = ""  # exact separator text that precedes ``text`` (after ``prev``)
        self.carry = ""  # empty segments' text waiting to join ``prev``'s tail
        self.term = d.segment
        self.suffix = d.suffix
        # Valid tags seen so far -> (the tag, True for a message body tag / False for envelope).
        self.tag_kinds: dict[str, tuple[str, bool]] = {}
        self.charset_checked = False  # one character-set fault per interchange is enough
        # Started on a window of the input rather than on all of it (see the module docstring):
        # a character-set fault then counts only inside the interchange's own text.
        self.windowed = False
        # (character index, fault), and where it goes in the error list and the sink.
        self.charset_pending: tuple[tuple[int, EdiError], int, int] | None = None


class Reader:
    """Feed bytes; finished interchanges land in ``result`` (or, with ``keep=False``, finished
    messages in ``completed`` as they close)."""

    def __init__(self, *, keep: bool = True, sink: list[tuple[Any, ...]] | None = None,
                 mark_ends: bool = False) -> None:
        self.result = ParseResult()
        self.keep = keep
        # Streaming: also hand out (None, None, interchange) where an interchange closed, in
        # order with its messages (an interchange without messages is seen there too).
        self.mark_ends = mark_ends and not keep
        self.sink = sink
        self.completed: list[tuple[Any, ...]] = []  # (message, group, interchange) when streaming
        self._buf = b""
        self._base = 0  # absolute byte offset of _buf[0]
        self._lead = bytearray()
        self._open: _Open | None = None
        self._bom: str | None = None  # None until the first bytes were looked at
        self._controls: set[str] = set()
        self._line = 1  # line/column at _buf[0]
        self._column = 1
        self._started = 0  # interchanges found so far
        self._pending_lead = b""
        self._una = ("", "")
        # Bytes handed back by closed interchanges, read in windows before any new input.
        self._queue: deque[memoryview] = deque()
        self._window = _WINDOW_MIN

    # -- public --------------------------------------------------------------------------------
    def feed(self, chunk: bytes, final: bool = False) -> None:
        # Millions of small acyclic objects: the cyclic collector would rescan them over and over
        # (measured: 35-40% of parse time) while finding nothing to free.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._step(chunk, final)
            queue = self._queue
            while queue:
                block = queue.popleft()
                size = self._window
                if len(block) > size:
                    queue.appendleft(block[size:])
                    block = block[:size]
                self._step(bytes(block), final and not queue)
                if self._open is not None:  # one long interchange: fewer, bigger windows
                    self._window = min(self._window * 2, _WINDOW_MAX)
            if final:
                self._close()
        finally:
            if enabled:
                gc.enable()

    def close(self) -> None:
        self.feed(b"", final=True)

    def _step(self, chunk: bytes, final: bool) -> None:
        if self._open is None:
            self._buf += chunk
        else:
            st = self._open
            st.text += st.decoder.decode(chunk, final)
            self._process(final)
        if self._open is None:
            self._seek(final)

    def take_completed(self) -> list[tuple[Any, ...]]:
        """Messages finished since the last call, with their group and interchange (streaming:
        the reader keeps no reference to them afterwards)."""
        out = self.completed
        self.completed = []
        st = self._open
        if st is not None and st.asm.completed:
            ic = st.asm.interchange
            out.extend((message, group, ic) for message, group in st.asm.completed)
            st.asm.completed.clear()
        return out

    # -- seeking the next interchange ----------------------------------------------------------
    def _seek(self, final: bool) -> None:
        while self._open is None:
            final = final and not self._queue  # queued input follows: not the end yet
            buf = self._buf
            if self._bom is None:
                if len(buf) < 4 and not final:
                    return
                self._bom, size = find_bom(buf)
                if self._bom and self._bom != "utf-8":
                    self._error(fault("detect.unsupported_encoding",
                                      f"{self._bom} byte-order mark: EDI in {self._bom} is not "
                                      f"supported", level="interchange", standard="",
                                      offset=0, line=1, column=1))
                    self._lead += buf
                    self._advance(len(buf))
                    return
                self._lead += buf[:size]
                self._advance(size)
                self._column = 1  # a byte-order mark is not a character of the first line
                continue
            at = find_start(buf, 0)
            if at < 0:
                keep = 0 if final else _SIGNATURE_TAIL
                cut = max(len(buf) - keep, 0)
                self._lead += buf[:cut]
                self._advance(cut)
                return
            header = read_header(buf, at, final, self._bom)
            if header is None:  # more bytes needed to judge this header
                self._lead += buf[:at]
                self._advance(at)
                return
            if isinstance(header, Refusal):
                self._refused(header, at)
                continue
            self._start(header, at, final)

    def _advance(self, count: int) -> None:
        gone = self._buf[:count]
        newlines = gone.count(b"\n")
        if newlines:
            self._line += newlines
            self._column = len(gone) - gone.rfind(b"\n")
        else:
            self._column += len(gone)
        self._buf = self._buf[count:]
        self._base += count

    def _refused(self, refusal: Refusal, at: int) -> None:
        absolute = self._base + refusal.offset
        line, column = self._line_col_at(refusal.offset)
        self._error(fault(refusal.kind, refusal.message, level="interchange", standard="",
                          offset=absolute, line=line, column=column))
        self._lead += self._buf[:at + 1]
        self._advance(at + 1)

    def _line_col_at(self, index: int) -> tuple[int, int]:
        before = self._buf[:index]
        newlines = before.count(b"\n")
        if newlines:
            return self._line + newlines, index - before.rfind(b"\n")
        return self._line, self._column + index

    def _start(self, header: Header, at: int, final: bool) -> None:
        lead = bytes(self._lead) + self._buf[:at]
        self._lead = bytearray()
        junk = lead.removeprefix(b"\xef\xbb\xbf") if self._started == 0 else lead
        self._advance(at)
        self._started += 1
        if junk.strip(b" \t\r\n\x00\x1a"):
            line, column = (self._line, self._column) if not junk else (1, 1)
            header.detection.reasons.append(
                f"{len(junk)} byte(s) before the interchange kept as leading data")
            self._error(fault("detect.leading_junk",
                              f"{len(junk)} byte(s) of non-EDI data before the interchange "
                              f"header (kept, not parsed)", level="interchange",
                              standard=header.standard, offset=self._base - len(junk),
                              line=line, column=column, severity="warning"))
        header.start = self._base
        header.detection.offset = self._base
        asm = Assembler(header.standard, header.delimiters, header.detection,
                        self.result.errors, self.sink, self.keep)
        st = _Open(header, asm)
        st.line_base, st.column_base = self._line, self._column
        for kind, message, offset in header.warnings:
            line, column = self._line_col_at(offset - at)
            self._error(fault(kind, message, level="interchange", standard=header.standard,
                              offset=self._base + offset - at, line=line, column=column,
                              severity="warning"))
        self._pending_lead = lead
        body = self._buf
        self._buf = b""
        self._open = st
        queue = self._queue
        if self._started > 1 and len(body) > self._window and \
                len(body) + sum(map(len, queue)) > _GIVE_BACK_LIMIT:
            queue.appendleft(memoryview(body)[self._window:])
            body = body[:self._window]
        # Input already known to follow (queued) is not in this text: read in windows.
        st.windowed = bool(queue)
        final = final and not queue
        st.text = st.decoder.decode(body, final)
        if header.standard == "edifact" and st.text.startswith("UNA"):
            una = st.text[:9]
            rest = st.text[9:]
            gap = rest[:len(rest) - len(rest.lstrip(WHITESPACE))]
            self._una = (una, gap)
            self._skip_text(9 + len(gap))
        else:
            self._una = ("", "")
        self._process(final)

    def _skip_text(self, count: int) -> None:
        st = self._open
        assert st is not None
        skipped = st.text[:count]
        st.byte_base += len(skipped.encode(st.encoding, "surrogateescape"))
        newlines = skipped.count("\n")
        if newlines:
            st.line_base += newlines
            st.column_base = len(skipped) - skipped.rfind("\n")
        else:
            st.column_base += len(skipped)
        st.text = st.text[count:]

    # -- the hot loop --------------------------------------------------------------------------
    def _process(self, final: bool) -> None:
        st = self._open
        assert st is not None
        text, term, suffix = st.text, st.term, st.suffix
        if not text:
            return
        sep = term
        if suffix and text.count(term) == text.count(term + suffix):
            sep = term + suffix
        want_gap = "" if sep != term else suffix
        pieces = text.split(sep)
        release = st.codec.release
        if release and release + sep in text:
            pieces = _rejoin_released(pieces, release, sep)
        rest = pieces.pop()
        if not final and pieces and not rest.strip(WHITESPACE):
            # A trailing gap may continue in the next chunk: hold back its segment too.
            rest = pieces.pop() + sep + rest
        source = TextSource(text, st.byte_base, st.line_base, st.column_base, st.encoding)
        if not st.charset_checked and not text.isascii():
            found = self._charset_fault(st, source)
            if found is not None:
                if st.windowed:
                    # Known only once the segments are read: whether it lies inside the
                    # interchange. Kept in the place it would have had among the faults.
                    st.charset_pending = (found, len(self.result.errors),
                                          len(self.sink) if self.sink is not None else 0)
                else:
                    st.charset_checked = True
                    self._error(found[1])
        asm, codec, sink = st.asm, st.codec, self.sink
        tag_kinds, element = st.tag_kinds, codec.element
        current = asm.current
        count = len(current) if current is not None else 0
        prev, carry, pre = st.prev, st.carry, st.pre
        # Most segments need no tail: no gap is expected before them, nothing is carried and the
        # separator before them was the usual one. Only the others take the long way round.
        dirty = bool(want_gap or carry) or pre != sep
        default_tail = term + suffix
        new = Segment.__new__
        # Where each piece starts in ``text``, summed up in C (one start more than pieces).
        starts = accumulate(map(add, map(len, pieces), repeat(len(sep))), initial=0)
        for piece, pos in zip(pieces, starts, strict=False):
            body = piece.lstrip(WHITESPACE)
            if body is piece and not dirty:
                char = pos
            else:
                if body is piece:
                    gap = ""  # (an empty piece lands here too: it is read as a segment)
                else:
                    gap = piece[:len(piece) - len(body)]
                    if not body:  # an empty segment: two terminators in a row
                        if prev is not None:
                            carry += pre + piece
                            pre = sep
                            dirty = True
                            self._empty_segment(st, source, pos)
                        continue
                if prev is not None and (carry or gap != want_gap or pre != sep):
                    tail = carry + pre + gap
                    # Only across chunks (pre from the previous one) can this spell the default.
                    if tail != default_tail:
                        prev.tail = tail
                    carry = ""
                pre = sep
                dirty = bool(want_gap or carry)
                char = pos + len(gap)
            tag = body.partition(element)[0]
            known = tag_kinds.get(tag)
            if known is None:
                tag = self._check_tag(st, tag, body, source, char)
                kind = tag not in asm.env
            else:
                # One string per tag for all its segments (less memory, less to free).
                tag, kind = known
            # parsed_segment(), inlined: this loop runs once per segment of the input.
            seg = new(Segment)
            seg.tag = tag
            seg.raw = body
            seg.tail = None
            seg._elements = None
            seg._codec = codec
            seg._source = source
            seg._char = char
            if kind and current is not None:
                count += 1
                seg.position = count
                current.append(seg)
                if sink is not None:
                    sink.append(("segment", seg))
                prev = seg
                continue
            seg.position = 0
            asm.last = prev  # the body loop above leaves it to us
            state = asm.envelope(seg)
            if state == NEW_INTERCHANGE:
                # The header belongs to the next interchange: give its text back as bytes.
                st.prev, st.carry = prev, carry
                self._end_interchange(st, source, char, "a new interchange begins")
                return
            if state == STRAY:
                # No place in the tree: its text joins the previous segment's tail.
                if prev is not None:
                    carry = (prev.tail if prev.tail is not None else term + suffix) + body
                    dirty = True
                continue
            prev = seg
            current = asm.current
            count = len(current) if current is not None else 0
            if state == COMPLETE:
                st.prev, st.carry = prev, carry
                self._complete(st, source, pos + len(piece))
                return
        asm.last = prev
        st.prev, st.carry, st.pre = prev, carry, pre
        pos = len(text) - len(rest)  # text == sep.join(pieces + [rest])
        if final:
            self._finish_text(st, source, rest, pos)
            return
        self._settle_charset(st, pos)
        # Keep the incomplete remainder; the next chunk is appended to it.
        if pos:
            st.byte_base = source.byte_offset(pos)
            st.line_base, st.column_base = source.line_col(pos)
        st.text = rest

    def _charset_fault(self, st: _Open, source: TextSource) -> tuple[int, EdiError] | None:
        """The first character the declared character set does not allow (kept, but reported),
        with its fault; None when there is none."""
        detection = st.header.detection
        syntax = detection.syntax_id.upper()
        text = source.text
        index, kind, severity, why = -1, "", "error", ""
        surrogate = _SURROGATE.search(text)
        if surrogate is not None:
            index, kind = surrogate.start(), "syntax.invalid_character"
            why = f"byte 0x{ord(surrogate.group()) - 0xDC00:02X} is not valid {st.encoding}"
        elif st.header.standard == "edifact" and syntax in ("UNOA", "UNOB") \
                and detection.bom != "utf-8":
            index = _first_non_ascii(text)
            kind = "syntax.invalid_character"
            why = f"character {text[index]!r} is outside the 7-bit {syntax} repertoire"
        elif st.encoding == "latin-1" and syntax in ("UNOC", ""):
            try:
                text.encode("latin-1").decode("utf-8")
            except (UnicodeError, ValueError):
                return None
            index = _first_non_ascii(text)
            kind, severity = "detect.charset_mismatch", "warning"
            why = (f"the bytes are valid UTF-8 but {syntax or 'the interchange'} declares "
                   f"ISO 8859-1: decoded as declared")
        if index < 0:
            return None
        line, column = source.line_col(index)
        return index, fault(kind, why, level="segment", standard=st.header.standard,
                            interchange=st.asm.interchange, msg=st.asm.message,
                            offset=source.byte_offset(index), line=line, column=column,
                            severity=severity, bad_value=text[index])

    def _settle_charset(self, st: _Open, consumed: int) -> None:
        """A windowed interchange read ``consumed`` characters of its text: report the pending
        character-set fault if it lies among them (else the next window looks again)."""
        pending = st.charset_pending
        if pending is None:
            return
        st.charset_pending = None
        (index, err), mark, sink_mark = pending
        if index < consumed:
            st.charset_checked = True
            self.result.errors.insert(mark, err)
            if self.sink is not None:
                self.sink.insert(sink_mark, ("error", err))

    def _check_tag(self, st: _Open, tag: str, body: str, source: TextSource, char: int) -> str:
        if 2 <= len(tag) <= 3 and tag.isalnum():
            st.tag_kinds[tag] = (tag, tag not in st.asm.env)
            return tag
        clean = body.replace("\r", "").replace("\n", "")
        cut = clean.find(st.codec.element)
        fixed = clean[:cut] if cut >= 0 else clean
        if 2 <= len(fixed) <= 3 and fixed.isalnum():
            return fixed  # a tag split by line wrapping
        if fixed.startswith("UNA") or body.startswith("UNA"):
            return "UNA"
        if len(self.result.errors) >= MAX_FAULTS:
            return fixed  # (no room for the fault: do not build it)
        line, column = source.line_col(char)
        err = fault("syntax.invalid_tag", f"segment tag {fixed[:20]!r} is not 2-3 letters or "
                    f"digits", level="segment", standard=st.header.standard,
                    interchange=st.asm.interchange, msg=st.asm.message,
                    offset=source.byte_offset(char), line=line, column=column,
                    bad_value=fixed)
        self._error(err)
        return fixed

    def _empty_segment(self, st: _Open, source: TextSource, char: int) -> None:
        if len(self.result.errors) >= MAX_FAULTS:
            return
        line, column = source.line_col(char)
        self._error(fault("syntax.empty_segment", "empty segment (two segment terminators in a "
                          "row)", level="segment", standard=st.header.standard,
                          interchange=st.asm.interchange, msg=st.asm.message,
                          offset=source.byte_offset(char), line=line, column=column))

    def _finish_text(self, st: _Open, source: TextSource, rest: str, pos: int) -> None:
        """End of input inside an interchange: the unterminated remainder, then the close."""
        body = rest.lstrip(WHITESPACE)
        gap = rest[:len(rest) - len(body)]
        if body:
            if st.prev is not None:
                st.prev.tail = st.carry + st.pre + gap
            char = pos + len(gap)
            cut = body.find(st.codec.element)
            tag = self._check_tag(st, body[:cut] if cut >= 0 else body, body, source, char)
            seg = parsed_segment(tag, body, st.codec, source, char)
            seg.tail = ""
            line, column = source.line_col(char + len(body))
            self._error(fault("syntax.unterminated_segment",
                              f"{tag} segment is not terminated by {st.term!r}: input ends",
                              level="segment", standard=st.header.standard,
                              interchange=st.asm.interchange, msg=st.asm.message,
                              offset=source.byte_offset(char + len(body)), line=line,
                              column=column))
            asm = st.asm
            if asm.current is not None and tag not in asm.env:
                asm._append(seg)
                state = 0
            else:
                state = asm.envelope(seg)
            if state == STRAY and st.prev is not None:
                prev = st.prev
                prev.tail = (prev.tail if prev.tail is not None else st.term + st.suffix) + body
            if state == COMPLETE:
                self._complete(st, source, len(source.text))
                return
            if state == NEW_INTERCHANGE:
                self._end_interchange(st, source, char, "a new interchange begins")
                return
        elif st.prev is not None:
            st.prev.tail = st.carry + st.pre + rest
        self._end_interchange(st, source, len(source.text), "input ends")

    # -- interchange boundaries ----------------------------------------------------------------
    def _complete(self, st: _Open, source: TextSource, index: int) -> None:
        """The trailer was read; ``source.text[index:]`` starts with its terminator."""
        text = source.text
        trailer = st.asm.last
        end = index
        if text.startswith(st.term, index):
            end = index + len(st.term)
            while end < len(text) and text[end] in WHITESPACE:
                end += 1
        tail = st.carry + text[index:end]
        if trailer is not None and trailer.tail == "" and index >= len(text):
            pass  # an unterminated trailer at the end of the input stays unterminated
        elif trailer is not None and tail != st.term + st.suffix:
            trailer.tail = tail
        self._end_interchange(st, source, end, "")

    def _end_interchange(self, st: _Open, source: TextSource, index: int, why: str) -> None:
        """Close the interchange; ``source.text[index:]`` goes back to bytes for detection."""
        self._settle_charset(st, index)
        asm = st.asm
        if asm.interchange is not None and asm.interchange.trailer is None:
            asm.finish(why)
        ic = asm.interchange
        if ic is not None:
            ic.una = self._una[0]
            if ic.una:
                ic.layout["una_tail"] = self._una[1]
            if self._pending_lead:
                ic.layout["lead"] = self._pending_lead
            self._pending_lead = b""
            self._collect(ic, asm)
            if ic.control in self._controls:
                self._error(fault("interchange.duplicate_control",
                                  f"interchange control {ic.control!r} is used twice in this "
                                  f"input", level="interchange", standard=ic.standard,
                                  interchange=ic, segment=ic.header, bad_value=ic.control))
            self._controls.add(ic.control)
        leftover = source.text[index:].encode(st.encoding, "surrogateescape")
        pending = st.decoder.getstate()[0]
        end = source.byte_offset(index)
        self._window = min(max(2 * (end - st.header.start), _WINDOW_MIN), _WINDOW_MAX)
        self._base = end
        self._line, self._column = source.line_col(index)
        self._buf = leftover + pending
        self._open = None
        self._una = ("", "")

    def _collect(self, ic: Interchange, asm: Assembler) -> None:
        if self.keep:
            self.result.interchanges.append(ic)
        for message, group in asm.completed:
            self.completed.append((message, group, ic))
        asm.completed.clear()
        if self.mark_ends:
            self.completed.append((None, None, ic))

    def _close(self) -> None:
        if self._buf:
            self._seek(True)
        self.result.trailing = bytes(self._lead) + self._buf
        self._lead = bytearray()
        self._buf = b""
        if not self._started and not any(
                e.kind.startswith("detect.") for e in self.result.errors):
            self._error(fault("detect.no_interchange",
                              "no UNA, UNB or ISA interchange header found", level="interchange",
                              standard="", offset=0, line=1, column=1))

    def _error(self, err: EdiError) -> None:
        kept = capped(self.result.errors, err)
        if kept is None:
            return
        self.result.errors.append(kept)
        if self.sink is not None:
            self.sink.append(("error", kept))


def _first_non_ascii(text: str) -> int:
    match = _NON_ASCII.search(text)  # (a search in C: the text may be a whole file)
    return match.start() if match is not None else -1


def _rejoin_released(pieces: list[str], release: str, sep: str) -> list[str]:
    """Pieces whose terminator was escaped (odd run of release characters) join the next."""
    out: list[str] = []
    held: str | None = None
    for piece in pieces:
        if held is not None:
            piece = held + sep + piece
            held = None
        run = len(piece) - len(piece.rstrip(release))
        if run % 2:
            held = piece
        else:
            out.append(piece)
    if held is not None:
        out.append(held)
    return out
