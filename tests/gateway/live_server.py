"""Run ``edigate serve`` as a real subprocess on 127.0.0.1 for end-to-end and crash tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "fixtures" / "partners"
OPERATORS = ROOT / "fixtures" / "operators.toml"
ADMIN_TOKEN = "edg_demo_admin_0000000000000000000000000001"
VIEWER_TOKEN = "edg_demo_viewer_000000000000000000000000003"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_HELD: list[socket.socket] = []


def refused_port() -> int:
    """A port bound (port 0, the system's choice) and held for the whole test session without
    listening: every connection to it is refused, and no other program can take it."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD.append(held)
    return held.getsockname()[1]


# The demo fixtures name the partners' own endpoints (webhooks, polled APIs) on 127.0.0.1:93xx,
# where `make run`'s simulators listen. Tests never use those fixed ports.
FIXTURE_ENDPOINT = re.compile(r"127\.0\.0\.1:93\d\d")


def partner_fixtures(target: Path, port_for: Callable[[], int] | None = None) -> Path:
    """fixtures/partners copied to ``target`` with every partner endpoint on a port chosen at
    run time: ``port_for()`` each, or one refused port (see refused_port) for all."""
    target.mkdir(parents=True, exist_ok=True)
    if port_for is None:
        shared = refused_port()
        port_for = lambda: shared  # noqa: E731
    choose = port_for
    for path in PARTNERS.glob("*.toml"):
        text = FIXTURE_ENDPOINT.sub(lambda _: f"127.0.0.1:{choose()}",
                                    path.read_text(encoding="utf-8"))
        (target / path.name).write_text(text, encoding="utf-8")
    return target


class LiveServer:
    """One gateway process; ``kill()`` is SIGKILL (no cleanup), ``start()`` brings it back."""

    def __init__(self, data_dir: Path, database_url: str | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
        env.update(EDIGATE_SERVER_DATA_DIR=str(data_dir),
                   EDIGATE_SERVER_LISTEN=f"127.0.0.1:{self.port}",
                   EDIGATE_LOG_FORMAT="json", EDIGATE_LOG_LEVEL="warning")
        if database_url:
            env["EDIGATE_DATABASE_URL"] = database_url
        env.update(extra_env or {})
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=True)

    def prepare(self) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")
        partners = partner_fixtures(self.data_dir.parent / f"{self.data_dir.name}-partners")
        self.cli("partners", "import", str(partners))
        self.cli("tokens", "import", str(OPERATORS))
        return self

    def start(self, timeout: float = 30) -> None:
        log = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], env=self.env,
                                     cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: "
                                   f"{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"server did not become ready: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
