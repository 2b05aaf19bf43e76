"""The overview, the monitor list and a monitor page in headless Chromium against a running KubeKuma.

Logged in through the real form as admin or viewer (conftest.py); every page is checked by
axe-core in the light and the dark theme and saved as a screenshot.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import Kuma, axe_check, screenshot

pytestmark = pytest.mark.slow


def check_both_themes(page: Any, name: str) -> None:
    """axe and a screenshot in the light theme, then in the dark one (the system setting),
    and a screenshot as a phone shows it."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        axe_check(page)
        screenshot(page, f"{name}-{scheme}")
    page.emulate_media(color_scheme="light")
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(size)
    assert width <= 390 + 1, f"{name}: the page is {width} px wide on a 390 px phone"


def test_overview_shows_counts_and_what_needs_attention(admin_page: Any, kuma: Kuma) -> None:
    page = admin_page
    assert page.title().endswith("· KubeKuma")
    down = int(page.locator('[data-text="DOWN"]').first.inner_text())
    assert down >= 1  # ops/legacy: nothing listens on its port
    attention = page.locator('[data-list="attention"]')
    assert "ops/legacy" in attention.inner_text()
    attention.get_by_role("link", name="ops/legacy").click()
    page.wait_for_url("**/monitors/ops/legacy")
    assert "DOWN" in page.locator("h1").inner_text()
    page.goto(kuma.url + "/")
    check_both_themes(page, "overview")


def test_monitor_list_filters_by_get_parameters(admin_page: Any, kuma: Kuma) -> None:
    page = admin_page
    page.goto(kuma.url + "/monitors")
    rows = page.locator("tbody tr")
    assert rows.count() >= 5
    page.fill("input[name=q]", "checkout")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**/monitors?q=checkout*")
    assert [t.strip() for t in page.locator("tbody tr td:nth-child(2) strong").all_inner_texts()] == ["api"]
    page.goto(kuma.url + "/monitors")
    page.select_option("select[name=state]", "down")
    page.select_option("select[name=namespace]", "ops")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**/monitors?*state=down*")
    assert page.locator("tbody tr td:nth-child(2) strong").all_inner_texts() == ["legacy"]
    assert page.locator("svg.strip rect").count() == 24
    check_both_themes(page, "monitors")
    page.goto(kuma.url + "/monitors?sort=-latency")
    page.get_by_role("link", name="web").first.click()
    page.wait_for_url("**/monitors/shop/web")


def test_monitor_page_chart_shows_values_on_hover(admin_page: Any, kuma: Kuma) -> None:
    page = admin_page
    page.goto(kuma.url + "/monitors/shop/web?range=1h")
    assert "UP" in page.locator("h1").inner_text()
    # the latest minute has checks: hover it, the tooltip names its latency
    point = page.locator(".chart rect.hit[data-tip*='ms avg']").last
    point.hover()
    tip = page.locator(".chart .tooltip")
    tip.wait_for(state="visible")
    assert "ms avg" in tip.inner_text() and "UTC" in tip.inner_text()
    assert page.locator("text=Recent checks").count() == 1
    assert "HTTP 200" in page.locator("table").nth(1).inner_text()
    check_both_themes(page, "monitor")
    for rng in ("24h", "7d", "30d"):
        page.get_by_role("link", name=rng, exact=True).click()
        page.wait_for_url(f"**range={rng}*")
        assert page.locator(".chart rect.hit").count() == {"24h": 96, "7d": 168, "30d": 120}[rng]


def test_push_monitor_shows_its_url_to_admins_only(admin_page: Any, viewer_page: Any, kuma: Kuma) -> None:
    admin_page.goto(kuma.url + "/monitors/jobs/nightly-backup")
    assert "/api/push/" in admin_page.content() and "curl" in admin_page.content()
    viewer_page.goto(kuma.url + "/monitors/jobs/nightly-backup")
    assert "/api/push/" not in viewer_page.content()
    assert "editors and admins only" in viewer_page.content()
    screenshot(viewer_page, "monitor-push-viewer")


def test_pause_and_resume_as_admin(admin_page: Any, kuma: Kuma) -> None:
    page = admin_page
    page.on("dialog", lambda d: d.accept())
    page.goto(kuma.url + "/monitors/shop/api")
    page.get_by_role("button", name="Pause").click()
    kuma.wait_for("api paused", lambda: kuma.monitors()["shop/api"]["enabled"] is False)
    page.goto(kuma.url + "/monitors/shop/api")
    assert "PAUSED" in page.locator("h1").inner_text()
    screenshot(page, "monitor-paused")
    page.get_by_role("button", name="Resume").click()
    kuma.wait_for("api resumed", lambda: kuma.monitors()["shop/api"]["enabled"] is True)
    page.goto(kuma.url + "/monitors/shop/api")
    page.get_by_role("button", name="Pause").wait_for()


def test_viewer_sees_no_mutation_controls(viewer_page: Any, kuma: Kuma) -> None:
    page = viewer_page
    for url in ("/", "/monitors", "/monitors/shop/web"):
        page.goto(kuma.url + url)
        main = page.locator("main")
        assert main.locator("form[method=post]").count() == 0, url
        assert main.get_by_role("button", name="Pause").count() == 0
        assert "viewer" in page.locator(".who").inner_text()
    assert page.locator("nav[aria-label=Main]").get_by_role("link", name="Audit").count() == 0
    check_both_themes(page, "monitor-viewer")


def test_live_update_changes_counts_in_place(admin_page: Any, kuma: Kuma) -> None:
    page = admin_page
    kuma.wait_for("switch UP", lambda: kuma.state("shop/switch") == "UP")
    page.goto(kuma.url + "/")
    page.evaluate("window.__same_page = true")
    before = int(page.locator('[data-text="DOWN"]').first.inner_text())
    link = page.get_by_role("link", name="All incidents")
    link.focus()
    target = kuma.targets["switch"]
    target.status = 503  # a connection the checker keeps alive is answered by a handler still running
    target.stop()  # and new connections are refused
    kuma.wait_for("switch DOWN", lambda: kuma.state("shop/switch") == "DOWN")
    page.wait_for_function(
        f"() => parseInt(document.querySelector('[data-text=\"DOWN\"]').textContent) === {before + 1}",
        timeout=15000,
    )
    assert page.evaluate("window.__same_page") is True  # updated in place, not reloaded
    assert page.evaluate("document.activeElement.textContent") == "All incidents"  # focus kept
    assert "shop/switch" in page.locator('[data-list="attention"]').inner_text()
    screenshot(page, "overview-after-live-update")


def test_log_out_and_back_to_the_login_form(viewer_page: Any, kuma: Kuma) -> None:
    page = viewer_page
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto(kuma.url + "/monitors")
    assert page.url.endswith("/login")  # no session: the page sends the browser to the form
    assert page.locator("input[name=username]").count() == 1
