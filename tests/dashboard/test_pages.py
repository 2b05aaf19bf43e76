"""Incidents, deliveries, silences, maintenance, status pages, providers, policies, settings, API keys
and audit in headless Chromium against a running KubeKuma (the harness in conftest.py).

Every page is opened as admin, checked by axe-core in the light and the dark theme,
saved as a screenshot and checked not to overflow a phone's width; a silence is created
from a monitor and expired, an incident acknowledged and a test notification sent to a
real HTTP receiver on 127.0.0.1, all through the pages' own buttons; a viewer sees none
of those buttons.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.dashboard.conftest import Kuma, screenshot
from tests.dashboard.test_core_pages import check_both_themes  # axe in both themes, and a phone

pytestmark = pytest.mark.slow

PAGES = ("/incidents", "/deliveries", "/silences", "/maintenance", "/status-pages", "/providers", "/policies",
         "/settings", "/api-keys", "/audit")  # fmt: skip

EXTRA = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: hook, namespace: shop}}
spec: {{type: webhook, webhook: {{url: "{url}/hook"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {{name: payments, namespace: shop}}
spec: {{monitorSelector: {{matchLabels: {{team: payments}}}}, providers: [{{name: hook}}]}}
---
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {{name: nightly, namespace: shop}}
spec: {{title: Nightly backup, monitors: [{{name: web}}], start: "2024-01-01T03:00:00", duration: 15m,
        rrule: "FREQ=DAILY"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {{name: shop, namespace: shop}}
spec:
  slug: shop
  title: Shop status
  accentColor: "#1f4e9d"
  groups: [{{name: Shop, selector: {{matchLabels: {{team: payments}}}}}}]
"""


class Receiver:
    """A real webhook receiver on loopback that keeps every body it gets."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        got = self.bodies

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got.append(json.loads(raw or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hook(kuma: Kuma) -> Iterator[Receiver]:
    rec = Receiver()
    kuma.write("pages-extra", EXTRA.format(url=rec.url))
    kuma.wait_for(
        "the provider and status page loaded", lambda: "Shop status" in _get(kuma, "/api/v1/status/shop")
    )
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _get(kuma: Kuma, path: str) -> str:
    import requests

    r = requests.get(kuma.url + path, timeout=5)
    return r.text if r.ok else ""


def test_every_page_opens_readable_in_both_themes(admin_page: Any, kuma: Kuma, hook: Receiver) -> None:
    page = admin_page
    for path in PAGES:
        page.goto(kuma.url + path)
        assert page.locator("h1").count() == 1, path
        assert page.locator("nav[aria-label=Main] a[aria-current=page]").count() == 1, path
        check_both_themes(page, path.strip("/"))
    page.goto(kuma.url + "/status/shop")
    check_both_themes(page, "status-page")


def test_create_a_silence_from_a_monitor_and_expire_it(admin_page: Any, kuma: Kuma, hook: Receiver) -> None:
    page = admin_page
    page.on("dialog", lambda d: d.accept())
    page.goto(kuma.url + "/silences?monitor=shop/switch")
    assert page.locator("textarea[name=matchers]").input_value() == "__namespace__=shop\n__name__=switch"
    page.fill("input[name=comment]", "browser test")
    page.select_option("select[name=duration]", "1h")
    with page.expect_navigation():  # the script posts, then reloads the page
        page.get_by_role("button", name="Create silence").click()
    row = page.locator("tbody tr", has_text="__name__=switch").filter(has_text="active")

    def shown(loc: Any) -> bool:
        page.goto(kuma.url + "/silences")
        return bool(loc.count())

    kuma.wait_for("the silence listed as active", lambda: shown(row))
    assert "browser test" in row.first.inner_text()
    screenshot(page, "silences-active")
    with page.expect_navigation():
        row.first.get_by_role("button", name="Expire").click()
    expired = page.locator("tbody tr", has_text="__name__=switch").filter(has_text="expired")
    kuma.wait_for("the silence expired", lambda: shown(expired))
    assert expired.first.get_by_role("button", name="Expire").count() == 0


def test_acknowledge_an_incident(admin_page: Any, kuma: Kuma, hook: Receiver) -> None:
    page = admin_page
    page.goto(kuma.url + "/incidents?monitor=ops/legacy&state=open")
    row = page.locator("tbody tr", has_text="ops/legacy")
    row.first.wait_for()
    button = row.first.get_by_role("button", name="Acknowledge")
    if button.count():  # the session's one open incident may have been acknowledged by a rerun
        with page.expect_navigation():
            button.click()
    page.locator("tbody tr", has_text="acknowledged by").first.wait_for(timeout=10_000)
    assert "acknowledged by admin" in page.locator("tbody tr", has_text="ops/legacy").first.inner_text()


def test_send_a_test_notification_to_a_local_receiver(admin_page: Any, kuma: Kuma, hook: Receiver) -> None:
    page = admin_page
    page.on("dialog", lambda d: d.accept())
    page.goto(kuma.url + "/providers")
    row = page.locator("tbody tr", has_text="hook")
    before = len(hook.bodies)
    with page.expect_navigation():
        row.get_by_role("button", name="Send test").click()
    kuma.wait_for("the receiver got the test", lambda: len(hook.bodies) > before)
    assert "test notification" in json.dumps(hook.bodies[-1]).lower()


def test_viewer_sees_no_mutation_controls_on_these_pages(
    viewer_page: Any, kuma: Kuma, hook: Receiver
) -> None:
    page = viewer_page
    for path in ("/incidents", "/silences", "/providers", "/deliveries", "/maintenance", "/policies"):
        page.goto(kuma.url + path)
        main = page.locator("main")
        assert main.locator("form[method=post]").count() == 0, path
        assert main.locator("[data-api]").count() == 0, path
        for name in ("Acknowledge", "Expire", "Send test", "Create silence"):
            assert main.get_by_role("button", name=name).count() == 0, (path, name)
    page.goto(kuma.url + "/audit")
    assert "403" in page.content() or "Forbidden" in page.content()
    page.goto(kuma.url + "/silences")
    check_both_themes(page, "silences-viewer")


def test_login_page_is_readable_and_says_what_went_wrong(browser: Any, kuma: Kuma) -> None:
    context = browser.new_context(bypass_csp=True)  # bypass only so axe can be injected
    page = context.new_page()
    try:
        page.goto(kuma.url + "/login")
        check_both_themes(page, "login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        page.get_by_role("alert").wait_for()
        assert "Wrong username, password or code." in page.get_by_role("alert").inner_text()
        assert page.locator("input[name=username]").input_value() == "admin"
        screenshot(page, "login-failed")
    finally:
        context.close()
