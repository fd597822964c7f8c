"""Suite-wide fixtures. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The shared corpus sits beside the checkout; tests use it by path, never copy it.
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        raise RuntimeError(f"EDI corpus not found at {CORPUS} (expected ../shared/corpus)")
    return CORPUS
