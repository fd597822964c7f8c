"""The four cores stay pure: no module of translators/, schemas/, reconciler/ or optimizer/
imports the gateway or a library that does I/O (sockets, HTTP, databases, SSH, schedulers,
processes). Read from the source with ``ast``, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORES = ("translators", "schemas", "reconciler", "optimizer")
FORBIDDEN = ("gateway", "aiohttp", "sqlalchemy", "asyncssh", "apscheduler", "socket",
             "requests", "psycopg", "psycopg2", "subprocess")


def _imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement, relative ones resolved."""
    package = module.split(".")
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name:
                found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}" if name else alias.name)
                      for alias in node.names]
    return found


def _violations(source: str, module: str) -> list[str]:
    return [f"{module}:{line} imports {name}" for line, name in _imports(source, module)
            if name.split(".")[0] in FORBIDDEN]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for core in CORES:
        for path in sorted((ROOT / core).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


MODULES = _modules()


def test_every_core_is_walked() -> None:
    walked = {name.split(".")[0] for name, _ in MODULES}
    assert walked == set(CORES)
    assert len(MODULES) > 60  # all of them, subpackages included


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_core_module_imports_no_gateway_and_no_io(module: str, path: Path) -> None:
    assert _violations(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(("source", "module"), [
    ("import socket\n", "translators.x"),
    ("from gateway.config import Settings\n", "schemas.x"),
    ("def f():\n    import sqlalchemy.orm\n", "optimizer.x"),
    ("from aiohttp import web\n", "reconciler.x"),
    ("import subprocess as sp\n", "translators.syntax.x"),
    ("from .. import gateway\n", "gateway_like.x"),  # resolves to the top-level gateway
])
def test_the_check_sees_forbidden_imports(source: str, module: str) -> None:
    assert _violations(source, module)


def test_the_check_lets_pure_imports_pass() -> None:
    source = ("import json\nfrom schemas import default_registry\nfrom .tree import Segment\n"
              "from translators.syntax import parse\n")
    assert _violations(source, "translators.mapping.engine") == []
