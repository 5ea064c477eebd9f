"""The web console at /console, used by a person in a real headless Chromium (Debian's
``chromium``, driven by Playwright pointed at that executable).

The flows of an incident at 3 a.m.: sign in, watch the incident appear (the page is
never reloaded: the live stream brings it), open it, acknowledge it and see the
escalation stop on its timeline; silence an alert from its labels and see it muted;
and, signed in as another tenant, see none of it.

hooli escalates by its "fast" policy: level 1 at once to webhook l1, level 2 two
seconds later to l2 (the ``levels`` fixture records both).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.acceptance.clients import need
from tests.recording_server import RecordingServer
from tests.system import TENANTS, Vigil, silence_for_an_hour, unique_labels

pytestmark = pytest.mark.integration

TENANT = "hooli"
OTHER = "globex"
WAIT_MS = 20_000  # how long an expectation may take on a loaded machine
ESCALATE_AFTER = 2.0  # the fast policy's seconds between levels
expect.set_options(timeout=WAIT_MS)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = need("chromium", "chromium-browser")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def signed_in(browser: Browser, vigil: Vigil, tenant: str) -> Page:
    """A new tab on the console, signed in as ``tenant`` the way a person does it."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(WAIT_MS)
    await page.goto(f"{vigil.url}/console")
    await page.fill("#key", TENANTS[tenant])
    await page.press("#key", "Enter")
    await expect(page.locator("#who")).to_contain_text(f"{tenant}-tests")
    await expect(page.locator("#live")).to_have_text("● live")
    return page


def send(vigil: Vigil, tenant: str, labels: dict[str, str], severity: str = "critical") -> Any:
    body = {"labels": labels, "severity": severity}
    r = vigil.session(tenant).post(vigil.api(), json=body, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()


def paged_levels(l1: RecordingServer, l2: RecordingServer, incident_id: str) -> list[str]:
    """Which levels' webhooks got a firing notice about the incident."""
    found = []
    for name, server in (("l1", l1), ("l2", l2)):
        for r in server.received:
            body = json.loads(r.body)
            if body.get("incident_id") == incident_id and body.get("status") == "firing":
                found.append(name)
    return found


async def test_sign_in_watch_an_incident_appear_acknowledge_it_and_see_escalation_stop(
    browser: Browser, vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    l1, l2 = levels
    page = await signed_in(browser, vigil, TENANT)
    await expect(page.locator("#incidents")).to_be_visible()
    labels = unique_labels(service="console")

    send(vigil, TENANT, labels)
    row = page.locator("#incidents tr.incident", has_text=labels["alertname"])
    await expect(row).to_be_visible()  # arrived over the live stream: no reload
    await expect(row.locator(".state")).to_have_text("triggered")

    await row.locator("a").click()
    await expect(page.locator("#view h1")).to_contain_text(labels["alertname"])
    incident_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#members")).to_contain_text(labels["alertname"])
    # Level 1 is paged at once; the page shows it without a reload.
    await expect(page.locator("#timeline [data-event=delivered]").first).to_be_visible()

    await page.keyboard.press("a")  # acknowledge, from the keyboard
    await expect(page.locator("#incident-state")).to_have_text("acknowledged")
    stopped = page.locator("#timeline [data-event=escalation_stopped]")
    await expect(stopped).to_be_visible()
    await expect(stopped).to_contain_text(f"{TENANT}-tests")
    await expect(page.locator("#acknowledge")).to_be_disabled()

    # Past the next level's time, nothing more was paged: whatever level was reached
    # before the acknowledgement (level 2 too, on a slow machine), it is the last.
    before = paged_levels(l1, l2, incident_id)
    await page.wait_for_timeout(int(ESCALATE_AFTER * 2 * 1000))
    assert paged_levels(l1, l2, incident_id) == before
    events = await page.locator("#timeline li").evaluate_all(  # newest first
        "items => items.map(li => li.dataset.event)"
    )
    newest_first: list[str] = events
    stop_at = newest_first.index("escalation_stopped")
    assert "escalated" not in newest_first[:stop_at], newest_first


async def test_silence_an_alert_from_its_labels_and_see_it_muted(
    browser: Browser, vigil: Vigil, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    page = await signed_in(browser, vigil, TENANT)
    labels = unique_labels(service="console-silence")
    send(vigil, TENANT, labels, severity="warning")
    row = page.locator("#incidents tr.incident", has_text=labels["alertname"])
    await row.locator("a").click()
    member = page.locator("#members tr", has_text=labels["alertname"])
    await expect(member.locator(".muted-by")).to_have_text("—")

    await member.locator("button.silence-member").click()
    matchers = page.locator("#silence-matchers")
    await expect(matchers).to_contain_text(f'alertname="{labels["alertname"]}"')
    await expect(page.locator("#preview-count")).to_have_text(
        "This silence would mute 1 active alert:"
    )
    await page.fill("#silence-comment", "deploying the fix")
    await page.click("#create-silence")
    silence_row = page.locator("#silences tr", has_text=labels["alertname"])
    await expect(silence_row).to_contain_text("active")
    await expect(silence_row).to_contain_text("deploying the fix")

    await page.keyboard.press("g")
    await page.keyboard.press("i")
    await page.locator("#incidents tr.incident", has_text=labels["alertname"]).locator("a").click()
    await expect(member.locator(".muted-by")).to_contain_text("silence")
    await expect(page.locator("#timeline [data-event=silenced]")).to_be_visible()

    # Expire it from the console; the alert is no longer muted.
    await page.goto(f"{vigil.url}/console#/silences")
    await silence_row.locator("button.expire").click()
    await expect(silence_row).to_contain_text("expired")


class Busy:
    """A route handler: Vigil answers every request on the route with a 503 (busy)
    until ``over()``, then lets them through; ``refused`` counts what it turned away.
    The test sees the failure shown before the page may recover, however slow the
    machine (a page that retries in 3 s must not clear it before the test looks)."""

    def __init__(self) -> None:
        self.busy = True
        self.refused = 0

    async def __call__(self, route: Route) -> None:
        if self.busy:
            self.refused += 1
            await route.fulfill(status=503, json={"error": "busy"})
        else:
            await route.continue_()

    def over(self) -> None:
        self.busy = False


async def opened_while_busy(
    browser: Browser, vigil: Vigil, tenant: str, api: str, view: str
) -> tuple[Page, Busy]:
    """A console view opened while Vigil refuses its loads from ``api`` (a URL pattern);
    the tab, and the handler that ends the refusals."""
    page = await signed_in(browser, vigil, tenant)
    busy = Busy()
    await page.route(api, busy)
    await page.goto(f"{vigil.url}/console#/{view}")
    return page, busy


async def test_the_silences_page_recovers_from_a_failed_load_and_follows_new_silences(
    browser: Browser, vigil: Vigil
) -> None:
    page, busy = await opened_while_busy(browser, vigil, TENANT, "**/api/v2/silences", "silences")
    await expect(page.locator("#banner")).to_contain_text("Loading silences failed")
    busy.over()
    # The page loads again by itself: rows come without a reload.
    await expect(page.locator("#silences tbody tr").first).to_be_visible()
    assert busy.refused >= 1
    await expect(page.locator("#banner")).to_be_hidden()

    # A silence made elsewhere (amtool, the API) shows up while the page stays open.
    alertname = unique_labels()["alertname"]
    silence_for_an_hour(vigil, TENANT, alertname, "made elsewhere", by="amtool")
    row = page.locator("#silences tr", has_text=alertname)
    # Within one refresh (15 s), with room for a loaded machine.
    await expect(row).to_contain_text("made elsewhere", timeout=WAIT_MS + 15_000)


async def test_the_on_call_page_recovers_from_a_failed_load_and_names_who_is_on_call(
    browser: Browser, vigil: Vigil
) -> None:
    asked = f"{vigil.url}/api/v1/schedules/primary/oncall"
    before = vigil.session("acme").get(asked, timeout=30).json()["user"]
    page, busy = await opened_while_busy(browser, vigil, "acme", "**/graphql", "oncall")
    await expect(page.locator("#banner")).to_contain_text("Loading schedules failed")
    busy.over()
    # The page loads again by itself, and names the person the schedules API names
    # (asked on both sides of the page's load: a handoff may fall between).
    row = page.locator("#schedules tr", has_text="primary")
    await expect(row).to_be_visible()
    after = vigil.session("acme").get(asked, timeout=30).json()["user"]
    await expect(row.locator("td").nth(1)).to_have_text(
        re.compile("|".join(re.escape(u) for u in {before, after}))
    )
    assert busy.refused >= 1


async def test_the_health_page_recovers_from_a_failed_load_and_follows_the_figures(
    browser: Browser, vigil: Vigil
) -> None:
    page, busy = await opened_while_busy(browser, vigil, TENANT, "**/api/v1/noise", "health")
    received = page.locator('#noise [data-figure="received"] b')
    # A figure that could not be loaded is not shown as a 0; then the page loads again.
    await expect(received).to_have_text("—")
    busy.over()
    await expect(received).to_have_text(re.compile(r"^\d+$"))
    assert busy.refused >= 1
    before = int(await received.inner_text())
    send(vigil, TENANT, unique_labels(service="console-health"))
    # The new alert is counted while the page stays open: within one refresh (15 s),
    # with room for a loaded machine.
    await expect(received).not_to_have_text(str(before), timeout=WAIT_MS + 15_000)
    assert int(await received.inner_text()) > before


async def test_another_tenant_sees_none_of_it(browser: Browser, vigil: Vigil) -> None:
    labels = unique_labels(service="console-private")
    send(vigil, TENANT, labels)
    mine = await signed_in(browser, vigil, TENANT)
    row = mine.locator("#incidents tr.incident", has_text=labels["alertname"])
    await expect(row).to_be_visible()
    incident_id = await row.get_attribute("data-id")

    theirs = await signed_in(browser, vigil, OTHER)
    await expect(theirs.locator("#incidents")).to_be_visible()
    await theirs.select_option("#f-state", "all")
    await expect(theirs.locator("#incidents tbody tr").first).to_be_visible()
    assert await theirs.locator("#incidents", has_text=labels["alertname"]).count() == 0
    await theirs.goto(f"{vigil.url}/console#/incident/{incident_id}")
    await expect(theirs.locator("#view h1")).to_have_text("Incident not found")
    await expect(theirs.locator("#banner")).to_contain_text("not found (HTTP 404)")
    await theirs.goto(f"{vigil.url}/console#/silences")
    await expect(theirs.locator("#silences")).to_be_visible()
    assert await theirs.locator("#silences", has_text=labels["alertname"]).count() == 0


async def test_labels_are_shown_as_text_never_run(browser: Browser, vigil: Vigil) -> None:
    trap = "<img src=x onerror=\"document.title='pwned'\">"
    labels = unique_labels(service="console-xss", note=trap)
    send(vigil, TENANT, labels)
    page = await signed_in(browser, vigil, TENANT)
    row = page.locator("#incidents tr.incident", has_text=labels["alertname"])
    await row.locator("a").click()
    await expect(page.locator("#members")).to_contain_text(trap)  # shown, as text
    assert await page.locator("#members img").count() == 0
    assert await page.title() == "Vigil console"


async def test_a_refused_key_and_signing_out_return_to_sign_in(
    browser: Browser, vigil: Vigil
) -> None:
    page = await browser.new_page()
    page.set_default_timeout(WAIT_MS)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto(f"{vigil.url}/console")
    await page.fill("#key", "not-a-key")
    await page.press("#key", "Enter")
    await expect(page.locator("#sign-in-error")).to_contain_text("refused")
    await expect(page.locator("#top")).to_be_hidden()

    await page.fill("#key", TENANTS[TENANT])
    await page.press("#key", "Enter")
    await expect(page.locator("#top")).to_be_visible()
    stored = await page.evaluate("() => sessionStorage.getItem('vigil.key')")
    assert stored == TENANTS[TENANT]
    assert not any(TENANTS[TENANT] in url for url in requests), "the key went into a URL"

    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.getItem('vigil.key')") is None


def test_the_console_is_served_locally_with_a_strict_policy(vigil: Vigil) -> None:
    page = requests.get(f"{vigil.url}/console", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in page.text.replace(f"{vigil.url}", "")  # nothing from elsewhere
    for asset in ("console.js", "console.css", "icon.svg"):
        r = requests.get(f"{vigil.url}/console/{asset}", timeout=10)
        assert r.status_code == 200, asset
    assert requests.get(f"{vigil.url}/console/../ingress.py", timeout=10).status_code == 404
    assert requests.get(f"{vigil.url}/console/secret.txt", timeout=10).status_code == 404
