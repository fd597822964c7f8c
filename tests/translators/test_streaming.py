"""Message-at-a-time translation says what the whole-input translation says, and keeps nothing
of a message once the next one is handed out."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ALL_CORPUS_FILES, corpus_id
from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import TranslationResult, iter_translate, translate
from translators.syntax.tree import Message


def _events(messages: Any) -> list[Any]:
    return [(m.message_type, m.message_control, m.status,
             None if m.event is None else (m.event.event_type, m.event.business_key,
                                           m.event.data))
            for m in messages if m.event is not None or m.status != "accepted"]


def _outline(result: TranslationResult) -> list[Any]:
    """Statuses and faults (kind and place) of everything, without the context fields a
    fault gets from where the reader was when it found it."""
    def faults(errors: Any) -> list[Any]:
        return [(e.kind, e.severity, e.offset, e.segment_tag) for e in errors]
    return [[(m.message_type, m.message_control, m.status, m.interchange_index,
              m.group_index, faults(m.errors)) for m in result.messages],
            [(ir.ack_kind, faults(ir.errors), [faults(g.errors) for g in ir.groups])
             for ir in result.interchanges], faults(result.errors)]


@pytest.mark.parametrize("lenient", [True, False], ids=["lenient", "strict"])
@pytest.mark.parametrize("path", ALL_CORPUS_FILES, ids=corpus_id)
def test_streaming_matches_the_whole_input_translation(path: Path, lenient: bool) -> None:
    data = path.read_bytes()
    whole = translate(data, lenient=lenient)
    stream = iter_translate(data, lenient=lenient)
    items = list(stream)
    assert _events(items) == _events(whole.messages)
    assert stream.result.error_report() == whole.error_report()
    assert [ir.ack_kind for ir in stream.result.interchanges] == \
        [ir.ack_kind for ir in whole.interchanges]
    # Fed a few bytes at a time, every message ends the same.
    small = iter_translate(data, lenient=lenient, chunk_size=7)
    assert _events(list(small)) == _events(whole.messages)
    assert _outline(small.result) == _outline(whole)


def _many(standard: str, count: int) -> bytes:
    """One interchange of ``count`` copies of the sample message, each with its own control."""
    if standard == "x12":
        one = x12(PO_850).decode()
        head, _, rest = one.partition("ST*")
        message = "ST*" + rest[:rest.index("GE*")]
        body = "".join(message.replace("0001", f"{n:04d}") for n in range(1, count + 1))
        return (head + body + f"GE*{count}*77~IEA*1*000000123~").encode()
    one = edifact(ORDERS).decode()
    head, _, rest = one.partition("UNH+")
    message = "UNH+" + rest[:rest.index("UNZ+")]
    body = "".join(message.replace("+M1", f"+M{n}") for n in range(1, count + 1))
    return (head + body + f"UNZ+{count}+IC42'").encode()


@pytest.mark.parametrize("standard", ["x12", "edifact"])
def test_a_message_is_released_once_the_next_one_is_handed_out(standard: str) -> None:
    data = _many(standard, 300)

    def messages_alive() -> int:
        gc.collect()
        return sum(type(o) is Message for o in gc.get_objects())

    before = messages_alive()
    stream = iter_translate(data, chunk_size=4096)
    count = 0
    for item in stream:
        count += 1
        assert item.message is not None and item.event is not None
        if count % 50 == 0:
            # (the item in hand and the rest of the current chunk's messages may live on)
            assert messages_alive() - before < 40
        del item
    assert count == 300
    result = stream.result
    assert [m.status for m in result.messages] == [m.status for m in translate(data).messages]
    # what the result keeps of each message: the outcome, not the tree or the event
    assert all(m.message is None and m.event is None for m in result.messages)
    assert result.interchanges[0].groups and result.interchanges[0].ack_kind


def test_strict_streaming_rejects_the_whole_interchange_at_its_end() -> None:
    bad = _many("x12", 3).replace(b"PO1*2*5*EA", b"PO1*2*X*EA", 1)  # one bad quantity
    assert [m.status for m in iter_translate(bad, lenient=False)] == ["rejected"] * 3
    assert [m.status for m in iter_translate(bad)] == \
        [m.status for m in translate(bad).messages] != ["rejected"] * 3
