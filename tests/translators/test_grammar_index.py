"""Grammar look-up goes through a closed index: names from partner data never become paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from translators import translate
from translators.grammar import loader
from translators.grammar.loader import (
    available_grammars,
    grammar_version_dir,
    has_grammar_file,
    load_grammar,
    load_grammar_file,
    select_grammar,
)


def _edifact(message_type: str, version: str = "D:96A:UN") -> bytes:
    body = [f"UNH+1+{message_type}:{version}", "BGM+220+PO1+9", "DTM+137:20240101:102",
            "UNT+4+1"]
    return ("UNA:+.? 'UNB+UNOA:3+SENDER+RECEIVER+240101:1200+1'" + "'".join(body)
            + "'UNZ+1+1'").encode()


@pytest.fixture
def evil_grammar(tmp_path: Path) -> Path:
    """A perfectly valid grammar file outside the grammar folder (what an attacker points at)."""
    target = tmp_path / "evil.json"
    target.write_text(json.dumps({"standard": "edifact", "message": "evil", "version": "D96A",
                                  "segments_from": "D96A",
                                  "structure": ["UNH M 1", "UNT M 1"]}))
    return target


def test_path_in_message_type_is_no_grammar(evil_grammar: Path) -> None:
    relative = Path("..") / ".." / ".." / ".."
    names = [f"../../{evil_grammar.parent.name}/evil", "../evil", "evil/../ORDERS",
             str(evil_grammar.with_suffix("")), "..", ".", "D96A/ORDERS", "_segments",
             "ORDERS\x00", "ORDERS.json", str(relative / evil_grammar.with_suffix(""))]
    for name in names:
        assert load_grammar("edifact", name, "D96A") is None, name
        assert grammar_version_dir("edifact", name, "D96A") is None, name
    # The version and the standard are partner data too.
    assert load_grammar("edifact", "ORDERS", "../../D96A") is None
    assert load_grammar("../edifact", "ORDERS", "D96A") is None
    with pytest.raises(FileNotFoundError):
        load_grammar_file("edifact", "D96A", "../../evil")


def test_traversal_message_is_parsed_and_reported_unsupported() -> None:
    result = translate(_edifact("../../tmp/evil"))
    [message] = result.messages
    assert message.status == "unsupported"
    assert [e.kind for e in message.errors] == ["message.unsupported"]
    assert message.errors[0].severity == "warning"


def test_very_long_message_type_does_not_crash() -> None:
    name = "A" * 300
    assert load_grammar("edifact", name, "D96A") is None
    assert load_grammar("x12", "8" * 300, "004010") is None
    assert load_grammar("edifact", "ORDERS", "D" * 300) is None
    result = translate(_edifact(name))
    [message] = result.messages
    assert message.status == "unsupported" and message.message_type == name


def test_index_lists_exactly_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    on_disk = {(p.parent.parent.name, p.parent.name, p.stem)
               for p in loader.GRAMMARS_DIR.glob("*/*/*.json") if not p.stem.startswith("_")}
    assert set(available_grammars()) == on_disk
    assert has_grammar_file("edifact", "D10A", "ORDRSP")
    assert not has_grammar_file("edifact", "D10A", "ORDRSP.json")
    # Look-up never touches the file system for a name: only the index is consulted.
    monkeypatch.setattr(Path, "is_file", lambda self: pytest.fail(f"is_file({self})"))
    monkeypatch.setattr(Path, "exists", lambda self: pytest.fail(f"exists({self})"))
    select_grammar.cache_clear()
    assert grammar_version_dir("edifact", "../../x", "D96A") is None
    assert load_grammar("edifact", "ORDERS", "D96A") is not None


def test_grammar_cache_is_bounded() -> None:
    info = select_grammar.cache_info()
    assert info.maxsize is not None and info.maxsize <= 4096
    for number in range(info.maxsize + 10):
        load_grammar("edifact", f"X{number}", "D96A")
    assert select_grammar.cache_info().currsize <= info.maxsize


def test_grammar_files_are_read_lazily() -> None:
    """Only the directory (and the dictionaries it extends) of the message asked for is read."""
    read: list[str] = []
    original = loader._read_json

    def spy(path: Path) -> dict:  # type: ignore[type-arg]
        read.append(f"{path.parent.name}/{path.name}")
        return original(path)

    loader.load_grammar_file.cache_clear()
    loader._raw_dictionary.cache_clear()
    loader.segment_dictionary.cache_clear()
    select_grammar.cache_clear()
    try:
        loader._read_json = spy  # type: ignore[assignment]
        assert load_grammar("edifact", "DESADV", "D96A") is not None
    finally:
        loader._read_json = original  # type: ignore[assignment]
        loader.load_grammar_file.cache_clear()
        select_grammar.cache_clear()
    messages = {r for r in read if not r.endswith("_segments.json")}
    assert messages <= {"D96A/DESADV.json", "D95B/DESADV.json", "D95A/DESADV.json",
                        "D94B/DESADV.json", "D94A/DESADV.json", "D93A/DESADV.json",
                        "grammars/versions.json"}, read
    later = {r.split("/")[0] for r in read} - {"grammars", "service"}
    assert all(d[1:3] in ("93", "94", "95", "96") for d in later), read
