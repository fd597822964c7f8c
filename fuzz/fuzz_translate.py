"""Coverage-guided fuzzing of translate: parse, validate, map, build and re-read the
acknowledgments (the properties of tests/fuzz/harness.py).

    python fuzz/fuzz_translate.py [libFuzzer options] CORPUS_DIR [SEED_DIR ...]
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["translators"]):
    import translators
    import translators.acks.build
    import translators.validation.pipeline  # noqa: F401

from common import harness, run_one


def test_one_input(data: bytes) -> None:
    run_one("translate", data, lambda: harness.check_translation(data))


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
