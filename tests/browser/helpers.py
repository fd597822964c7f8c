"""Browser test helpers: Debian's Chromium driven by Playwright, and a live gateway process.

Playwright's own browser downloads are never used: the system Chromium is launched by path
(``scripts/ensure-system-deps.sh`` installs it; ``make test`` runs that script first). A missing
Chromium fails the tests with the command that fixes it — a skip would hide that the dashboard
went untested.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.gateway.live_server import ROOT, LiveServer
from tests.gateway.reconcile_helpers import PROFILE, profile_toml

DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "var" / "test-artifacts"  # var/ is git-ignored


def chromium_path() -> str:
    """The system Chromium (``EDIGATE_CHROMIUM`` names another); fails the test if absent."""
    wanted = os.environ.get("EDIGATE_CHROMIUM", DEFAULT_CHROMIUM)
    found = wanted if os.access(wanted, os.X_OK) else shutil.which("chromium")
    if not found:
        pytest.fail(f"Chromium not found at {wanted} (nor as 'chromium' on PATH): the "
                    "dashboard's browser tests need it. Install it with "
                    "scripts/ensure-system-deps.sh (make test runs it) or "
                    "'apt-get install chromium'; EDIGATE_CHROMIUM names another binary.",
                    pytrace=False)
    return found


@contextmanager
def open_browser() -> Iterator[Browser]:
    """Headless system Chromium. Called inside the test (not a fixture) so a missing browser
    is a test failure, not a setup error."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def live_gateway(data_dir: Path) -> Iterator[LiveServer]:
    """A gateway subprocess on 127.0.0.1 with the demo network, the demo operator tokens and
    the migrating partner of the reconciliation tests (imported from its TOML like any other
    partner). Scheduled jobs are off, so the only reconciliation runs are the test's own."""
    server = LiveServer(data_dir, extra_env={"EDIGATE_JOBS_ENABLED": "false"})
    server.prepare()
    profile = data_dir / f"{PROFILE['id']}.toml"
    profile.write_text(profile_toml(PROFILE))
    server.cli("partners", "import", str(profile))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def call(server: LiveServer, method: str, path: str, token: str,
         body: Any = None) -> tuple[int, Any]:
    """One JSON request to the live server; returns (status, parsed body), 4xx included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def save_artifact(source: Path) -> Path:
    """Copy a screenshot where people look for it after a run: var/test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / source.name
    shutil.copyfile(source, target)
    return target
