// Drives the collector dashboard in headless Chromium: log in, see the enrolled agents (a silent
// one in red), the health view (fleet by worst open issue, an agent's sources, issues, charts,
// suppression), open an alert, drill down to its event, search events. Saves screenshots.
// Env: T0W_URL, T0W_USER, T0W_PASSWORD, T0W_SCREENSHOT_DIR.
"use strict";

const { chromium } = require("playwright-core");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const url = process.env.T0W_URL;
const shots = process.env.T0W_SCREENSHOT_DIR;

// Polls a locator's count (the page's CSP forbids the eval behind page.waitForFunction).
async function untilCount(locator, n) {
  for (let i = 0; i < 200; i++) {
    if ((await locator.count()) === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await locator.count(), n);
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "t0w-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    // The collector's certificate is self-signed and generated for this run.
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  const errors = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (e) => errors.push(String(e)));
    page.setDefaultTimeout(20000);
    await page.goto(url + "/");

    // Wrong password first: refused with a message, still on the login form.
    await page.fill("#login-user", process.env.T0W_USER);
    await page.fill("#login-password", "not the password");
    await page.click("#login-submit");
    await page.locator("#login-error", { hasText: /./ }).waitFor();
    assert.match(await page.textContent("#login-error"), /wrong password|unknown user/);

    await page.fill("#login-password", process.env.T0W_PASSWORD);
    await page.click("#login-submit");
    const agentRow = page.locator('#agents-table tr[data-agent="dc01"]');
    await agentRow.waitFor();
    const agentText = await agentRow.textContent();
    assert.match(agentText, /DC01\.corp\.example/);
    assert.equal((await agentRow.locator("td").last().textContent()).trim(), "ok");
    // The session cookie is HttpOnly: page script cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), "");
    const silentRow = page.locator('#agents-table tr[data-agent="dc02-silent"]');
    await silentRow.waitFor();
    const bg = await silentRow.locator("td").first().evaluate((td) => getComputedStyle(td).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r > 200 && g < 240 && b < 240 && r - g > 15, "silent agent row is red, got " + bg);
    await page.screenshot({ path: path.join(shots, "dashboard-fleet.png"), fullPage: true });

    // Health view: dc01's heartbeat has an absent source and drops, so it comes first with
    // events_dropped (high) as its worst open issue.
    await page.click('button.tab[data-view="health"]');
    const firstHealth = page.locator("#health-table tbody tr").first();
    await page.locator('#health-table tr[data-agent="dc01"]', { hasText: "events_dropped" }).waitFor();
    assert.equal(await firstHealth.getAttribute("data-agent"), "dc01");
    assert.match(await firstHealth.textContent(), /events_dropped.*high/);
    await untilCount(page.locator('#health-issues tr[data-code="source_absent"]'), 1);
    assert.match(await page.textContent('#health-issues tr[data-code="source_absent"]'), /Directory Service/);
    await firstHealth.click();
    const absentSource = page.locator('#health-sources tr[data-source="Directory Service"]');
    await absentSource.waitFor();
    assert.match(await absentSource.textContent(), /absent/);
    const liveSource = page.locator('#health-sources tr[data-source="Security"]');
    assert.match(await liveSource.textContent(), /record:103.*12\.5\/s.*3\.25 s.*172800 s/);
    // Charts: a line per agent and source, a bar for the high alert.
    await untilCount(page.locator('#chart-rate svg polyline[data-series="dc01 Security"]'), 1);
    await untilCount(page.locator('#chart-lag svg polyline[data-series="dc01 Security"]'), 1);
    // One heartbeat so far: its values are visible as dots (a one-point line draws nothing).
    await untilCount(page.locator('#chart-rate svg circle[data-series="dc01 Security"]'), 1);
    await untilCount(page.locator('#chart-lag svg circle[data-series="dc01 Security"]'), 1);
    await untilCount(page.locator('#chart-alerts svg rect[data-level="high"]'), 1);
    await page.screenshot({ path: path.join(shots, "dashboard-health.png"), fullPage: true });
    // Suppress (a POST with the CSRF token): gone from the open list, listed as suppressed.
    await page.locator('#health-issues tr[data-code="source_absent"] button.suppress').click();
    await untilCount(page.locator('#health-issues tr[data-code="source_absent"]'), 0);
    await page.selectOption('#health-filter select[name="state"]', "suppressed");
    await page.click('#health-filter button[type="submit"]');
    await untilCount(page.locator('#health-issues tr[data-code="source_absent"]'), 1);
    assert.match(await page.textContent('#health-issues tr[data-code="source_absent"]'), /suppressed until/);

    await page.click('button.tab[data-view="alerts"]');
    const alertRow = page.locator("#alerts-table tbody tr").first();
    await alertRow.waitFor();
    assert.match(await alertRow.textContent(), /DCSync/);
    await alertRow.click();
    await page.locator("#alert-detail h3").waitFor();
    assert.match(await page.textContent("#alert-detail"), /attack\.t1003\.006/);
    await page.click("#open-event");
    await page.locator("#event-detail").waitFor({ state: "visible" });
    const eventJson = await page.textContent("#event-json");
    assert.match(eventJson, /"EventID": 4662/);
    assert.match(eventJson, /"SubjectUserName": "mallory"/);
    await page.screenshot({ path: path.join(shots, "dashboard-alert-event.png"), fullPage: true });

    // Acknowledge (a POST with the CSRF token).
    await page.click("#ack-alert");
    await page.locator("#alert-detail", { hasText: "acknowledged by admin" }).waitFor();

    await page.click('button.tab[data-view="events"]');
    await page.fill('#events-filter input[name="q"]', "MALLORY");
    await page.click('#events-filter button[type="submit"]');
    await untilCount(page.locator("#events-table tbody tr"), 1);
    assert.match(await page.textContent("#events-table tbody"), /4662/);
    await page.screenshot({ path: path.join(shots, "dashboard-events.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log("dashboard browser test: 1 passed, 0 failed");
}

main().catch((e) => {
  console.error("dashboard browser test failed:", e);
  process.exit(1);
});
