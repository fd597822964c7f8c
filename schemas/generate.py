"""Regenerate (or check) the derived Avro files: ``python -m schemas.generate [--check]``.

The JSON Schema files are authored; each ``v<N>.avsc`` beside them is derived by
``schemas.avro.derive_avro`` and checked in, so consumers outside Python (a broker's schema
registry, Spark, ...) read the same contract. ``--check`` exits 1 listing stale or missing files
and writes nothing (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from schemas.avro import derive_avro
from schemas.registry import EVENTS_DIR


def dumps(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON with short values kept on one line: readable diffs for schema files."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 2, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    rows = [pad + dumps(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(rows) + "\n" + " " * indent + "]"


def derived_files(events_dir: Path = EVENTS_DIR) -> dict[Path, str]:
    """Every derived file and the text it must have."""
    out: dict[Path, str] = {}
    for source in sorted(events_dir.glob("*/v*.json")):
        document = json.loads(source.read_text(encoding="utf-8"))
        out[source.with_suffix(".avsc")] = dumps(derive_avro(document)) + "\n"
    return out


def stale_files(events_dir: Path = EVENTS_DIR) -> list[str]:
    """Derived files that are missing, out of date, or left over without a source."""
    problems = []
    expected = derived_files(events_dir)
    for path, text in expected.items():
        name = f"{path.parent.name}/{path.name}"
        if not path.exists():
            problems.append(f"{name}: missing")
        elif json.loads(path.read_text(encoding="utf-8")) != json.loads(text):
            problems.append(f"{name}: stale (differs from its .json source)")
    for path in sorted(events_dir.glob("*/*.avsc")):
        if path not in expected:
            problems.append(f"{path.parent.name}/{path.name}: no .json source")
    return problems


def main(argv: list[str] | None = None, events_dir: Path = EVENTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report stale files, write none")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files(events_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path, text in derived_files(events_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.parent.name}/{path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
