"""Coverage-guided fuzzing of the parser alone (faster: more executions per second):
parsing any bytes returns, and the tree writes back the exact input.

    python fuzz/fuzz_parse.py [libFuzzer options] CORPUS_DIR [SEED_DIR ...]
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["translators"]):
    import translators.syntax  # noqa: F401

from common import harness, run_one


def test_one_input(data: bytes) -> None:
    run_one("parse", data, lambda: harness.check_parse(data))


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
