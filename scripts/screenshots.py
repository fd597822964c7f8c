#!/usr/bin/env python3
"""Regenerate the dashboard screenshots in docs/ from a real demo run.

Plays ``edigate demo --days 2`` into a kept data directory (or reuses one given with
``--data``), serves it on a free loopback port with scheduled jobs off (the pictures show the
demo's state, not what a job did a second later), logs in as the demo operator and saves a
full-page PNG of each main page with system Chromium driven by Playwright (the same browser
the browser tests use; ``EDIGATE_CHROMIUM`` names another).

    .venv/bin/python scripts/screenshots.py            # about 3 minutes
    .venv/bin/python scripts/screenshots.py --data DIR # reuse a kept demo
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OPERATORS = ROOT / "fixtures" / "operators.toml"
WIDTH, HEIGHT = 1280, 900
# A long list is cut at this height: the picture shows what a page looks like, the repository
# does not need every row of it.
MAX_HEIGHT = 2400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_env(data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update(EDIGATE_SERVER_DATA_DIR=str(data), EDIGATE_SERVER_LISTEN=f"127.0.0.1:{port}",
               EDIGATE_JOBS_ENABLED="false", EDIGATE_LOG_LEVEL="warning")
    return env


def edigate(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "gateway", *args], env=env, cwd=ROOT, check=True)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the gateway exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the gateway did not become ready")


def busiest_order(database: Path) -> str:
    """The PO number with the most documents: the search page's example."""
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT value FROM business_refs WHERE kind = 'po' GROUP BY value "
                         "ORDER BY count(*) DESC, value LIMIT 1").fetchone()
    return row[0] if row else ""


def worst_interchange(database: Path) -> str:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT id FROM interchanges WHERE error_report IS NOT NULL AND "
                         "status IN ('rejected', 'partial', 'quarantined') "
                         "ORDER BY received_at DESC LIMIT 1").fetchone()
    return row[0] if row else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a kept demo data directory to reuse")
    parser.add_argument("--days", default="2", help="scenario days when playing a demo")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="edigate-shots-"))
    data = args.data or scratch / "demo"
    port = free_port()
    env = gateway_env(data, port)
    try:
        if args.data is None:
            edigate(env, "demo", "--days", args.days, "--keep", str(data),
                    "--no-compare-naive")
        edigate(env, "db", "upgrade")
        edigate(env, "tokens", "import", str(OPERATORS))
        url = f"http://127.0.0.1:{port}"
        with (scratch / "server.log").open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], env=env,
                                    cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_ready(url, proc)
            shoot(url, data / "edigate.db", args.out)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def shoot(url: str, database: Path, out: Path) -> None:
    token = next(o["token"] for o in tomllib.loads(OPERATORS.read_text())["operators"]
                 if o["role"] == "operator")
    order = busiest_order(database)
    bad = worst_interchange(database)
    pages = [("dashboard-overview.png", "/"),
             ("dashboard-interchanges.png", "/dashboard/interchanges"),
             ("dashboard-outbox.png", "/dashboard/outbox"),
             ("dashboard-plans.png", "/dashboard/plans"),
             ("dashboard-reconciliation.png", "/dashboard/reconciliation"),
             ("dashboard-suppliers.png", "/dashboard/suppliers")]
    if order:
        pages.append(("dashboard-search.png", f"/dashboard/search?q={order}"))
    if bad:
        pages.append(("dashboard-interchange-errors.png", f"/dashboard/interchanges/{bad}"))
    executable = os.environ.get("EDIGATE_CHROMIUM") or shutil.which("chromium") \
        or "/usr/bin/chromium"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.goto(f"{url}/login")
        page.fill("input[name=token]", token)
        with page.expect_navigation():
            page.click("button:has-text('Log in')")
        for name, path in pages:
            response = page.goto(url + path)
            if response is None or response.status != 200:
                raise SystemExit(f"{path} answered {response.status if response else 'nothing'}")
            page.wait_for_load_state("networkidle")
            height = min(int(page.evaluate("document.documentElement.scrollHeight")),
                         MAX_HEIGHT)
            page.screenshot(path=str(out / name), full_page=True,
                            clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
            print(f"{out / name}: {path}")
        browser.close()


if __name__ == "__main__":
    main()
