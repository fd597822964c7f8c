"""Suite-wide fixtures. Area fixtures live in tests/<area>/conftest.py.

Storage tests take the ``engine`` fixture and run twice: on SQLite and on PostgreSQL. PostgreSQL
is 127.0.0.1:5432 (trust auth, database ``test``) unless ``EDIGATE_TEST_POSTGRES_URL`` says
otherwise. Under ``CI=true`` the PostgreSQL variant must run: a stopped cluster is started with
``pg_ctlcluster``, and an unreachable server fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from gateway.storage.db import make_engine
from gateway.storage.migrate import upgrade
from gateway.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
# The EDI corpus the tests rely on ships with the repository (tests/corpus/SOURCES.md).
CORPUS = ROOT / "tests" / "corpus"


def _extra_corpus() -> Path | None:
    """More sample files that may add cases, never required: ``EDIGATE_EXTRA_CORPUS``, or a
    ``shared/corpus`` folder beside the checkout. Both hold ``edifact/`` and ``x12/``."""
    # The suite's own variable, taken out of the environment: the gateway's settings loader
    # (rightly) refuses EDIGATE_* variables it does not know.
    configured = os.environ.pop("EDIGATE_EXTRA_CORPUS", "").strip()
    folder = Path(configured) if configured else ROOT.parent / "shared" / "corpus"
    if folder.is_dir() and folder.resolve() != CORPUS.resolve():
        return folder
    return None


def corpus_files(folder: Path) -> list[Path]:
    """The sample interchanges of a corpus folder (``<standard>/<file>``), sorted."""
    return sorted(p for p in folder.glob("*/*")
                  if p.is_file() and p.suffix not in (".md", ".py") and p.name != "__init__.py")


EXTRA_CORPUS = _extra_corpus()
EXTRA_FILES = corpus_files(EXTRA_CORPUS) if EXTRA_CORPUS else []
# Every file the generic tests (parse, round trip, translate, grammar coverage) run over: the
# repository corpus and, when present, the extra one. Ids say which is which.
ALL_CORPUS_FILES = corpus_files(CORPUS) + EXTRA_FILES


def corpus_id(path: Path) -> str:
    name = f"{path.parent.name}/{path.name}"
    return name if path.is_relative_to(CORPUS) else f"extra:{name}"
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "EDIGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The repository's corpus (tests/corpus): always there, in a fresh clone too."""
    return CORPUS


@pytest.fixture(scope="session")
def all_corpus_files() -> list[Path]:
    """The repository's corpus files plus the extra corpus's, when one is present."""
    return ALL_CORPUS_FILES


def _postgres_reachable() -> str | None:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    finally:
        engine.dispose()


def _start_local_cluster() -> None:
    """Start the local Debian cluster(s) if pg_ctlcluster exists (CI machines have it)."""
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        return
    for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                       check=False, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    problem = _postgres_reachable()
    if problem and IN_CI:
        _start_local_cluster()
        problem = _postgres_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable outside CI ({problem}); CI=true makes this fail")
    name = f"edigate_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _truncate_all(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'edigate.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _postgresql_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def engine(db_backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated engine with empty tables, on SQLite and on PostgreSQL."""
    engine = request.getfixturevalue(f"_{db_backend}_engine")
    _truncate_all(engine)
    yield engine


@pytest.fixture(autouse=True)
def _no_correlation_id_from_an_earlier_test() -> Iterator[None]:
    """Each test starts with no correlation id bound: a test that calls the pipeline directly
    binds the interchange's id in the test thread (production callers run it in a context of
    their own), and it must not reach the next test."""
    from gateway.observability import logging as edigate_logging

    token = edigate_logging._correlation_id.set(None)
    yield
    edigate_logging._correlation_id.reset(token)
