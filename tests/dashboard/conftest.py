"""The browser-test harness: a real embedded KubeKuma, real targets, Playwright on system Chromium.

`kuma` (one per test session) runs every role in one process on SQLite with a manifests
folder: monitors of real loopback HTTP targets (two UP, one DOWN because nothing listens on
its port, one whose target a test may switch off), a push monitor, and two local users —
`admin` (role admin) and `viewer` (role viewer) — whose passwords are in `PASSWORDS`.
A test adds what it needs with `kuma.write(name, yaml)` and `kuma.wait_for(...)`.

`admin_page` / `viewer_page` are fresh browser pages logged in through the real `/login`
form. `axe_check(page)` runs axe-core (installed from npm by `make install` into
.venv/node) and fails on serious or critical violations; `screenshot(page, name)` saves
a full-page PNG to test-artifacts/screenshots/ (git-ignored).

Skips, with the reason, when there is no chromium (`scripts/ensure-services.sh` installs
it) or Playwright; `axe_check` skips without axe-core.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from app.config import load_settings
from app.http.access.manifests import user_manifests
from app.roles import Embedded
from tests.access import READER, write_reader
from tests.targets import HttpTarget

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
AXE = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PASSWORDS = {"admin": "admin-pass-1234", "viewer": "viewer-pass-1234"}

MONITOR = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: {namespace}, labels: {{team: {team}}}}}
spec:
  type: http
  description: {description}
  interval: 1s
  timeout: 2s
  http: {{url: "{url}"}}
"""

PUSH = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: nightly-backup, namespace: jobs, labels: {team: storage}}
spec: {type: push, interval: 1h, description: The nightly backup reports here}
"""


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Kuma:
    """The running system and what tests need to drive it."""

    def __init__(self, system: Embedded, folder: Path, targets: dict[str, HttpTarget]) -> None:
        self.system, self.folder, self.targets = system, folder, targets

    @property
    def url(self) -> str:
        return self.system.url.rstrip("/")

    def write(self, name: str, text: str) -> None:
        """Add or change a manifest file; the folder controller picks it up within a poll."""
        (self.folder / f"{name}.yaml").write_text(text)

    def monitors(self) -> dict[str, dict[str, Any]]:
        r = requests.get(self.url + "/api/v1/monitors", headers=READER, timeout=5)
        return {f"{m['namespace']}/{m['name']}": m for m in r.json().get("items", [])} if r.ok else {}

    def state(self, key: str) -> str | None:
        return self.monitors().get(key, {}).get("state")

    @staticmethod
    def wait_for(what: str, cond: Callable[[], Any], timeout: float = 20.0, every: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = cond()
            if last:
                return last
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="session")
def kuma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kuma]:
    root = tmp_path_factory.mktemp("kuma")
    folder = root / "manifests"
    folder.mkdir()
    write_reader(folder)
    for user, password in PASSWORDS.items():
        docs = user_manifests(user, password, user)
        (folder / f"user-{user}.yaml").write_text("".join("---\n" + yaml.safe_dump(d) for d in docs))
    targets = {name: HttpTarget().start() for name in ("web", "api", "switch")}
    monitors = [
        ("web", "shop", "payments", "The shop front", targets["web"].url + "/"),
        ("api", "shop", "payments", "Checkout API", targets["api"].url + "/health"),
        ("switch", "shop", "search", "A target the tests switch off", targets["switch"].url + "/"),
        ("legacy", "ops", "platform", "Nothing listens here", f"http://127.0.0.1:{closed_port()}/"),
    ]
    text = "".join(
        "---\n" + MONITOR.format(name=n, namespace=ns, team=t, description=d, url=u)
        for n, ns, t, d, u in monitors
    )
    (folder / "monitors.yaml").write_text(text + "---\n" + PUSH)
    db = f"sqlite:///{root / 'kk.db'}"
    settings = load_settings(manifests=str(folder), listen="127.0.0.1:0", worker_threads=4, database_url=db)
    system = Embedded(settings)
    system.controller.poll_interval = 0.2  # type: ignore[union-attr]
    system.start()
    k = Kuma(system, folder, targets)
    try:
        ready = lambda: k.state("shop/web") == "UP" and k.state("ops/legacy") == "DOWN"  # noqa: E731
        k.wait_for("web UP, legacy DOWN", ready)
        yield k
    finally:
        system.stop()
        for t in targets.values():
            try:
                t.stop()
            except OSError:
                pass


@pytest.fixture(scope="module")  # not session: Playwright's sync API holds an event loop while it runs,
def browser() -> Iterator[Any]:  # and the other browser suites (tests/http) start their own
    if CHROMIUM is None:
        pytest.skip("no chromium binary: run scripts/ensure-services.sh (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright comes with make install")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def login(browser: Any, kuma: Kuma, user: str) -> Any:
    """A new browser context logged in as `user` through the /login form; returns its page."""
    # bypass_csp: only so axe-core can be injected; our own pages never need it.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(kuma.url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(kuma.url + "/")
    return page


@pytest.fixture
def admin_page(browser: Any, kuma: Kuma) -> Iterator[Any]:
    page = login(browser, kuma, "admin")
    yield page
    page.context.close()


@pytest.fixture
def viewer_page(browser: Any, kuma: Kuma) -> Iterator[Any]:
    page = login(browser, kuma, "viewer")
    yield page
    page.context.close()


def axe_check(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page; fail on serious or critical violations. Returns every violation."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make install puts it in .venv/node)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {page.url}: {bad}"
    return list(result)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(name="axe_check")
def axe_check_fixture() -> Callable[[Any], list[dict[str, Any]]]:
    return axe_check


@pytest.fixture(name="screenshot")
def screenshot_fixture() -> Callable[[Any, str], Path]:
    return screenshot
