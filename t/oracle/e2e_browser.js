// Node side of t/e2e_browser.t: the chat page in headless Chromium, driven
// by playwright-core.  Two browser contexts (two users, nothing shared)
// open /?name=alice and /?name=bob, wait until both are connected, alice
// sends a message with the Send button, bob answers with Enter, and then
// bob closes his page.  Every console error and page error of either page
// is collected; each page is saved as a screenshot.
//
// The script only records what happened; t/e2e_browser.t judges it.
//
// Environment (set by t/lib/ChatDemo.pm and the test):
//   E2E_NGINX     nginx's origin (http://127.0.0.1:PORT)
//   E2E_SCALE     a factor for every time limit (valgrind)
//   E2E_SHOTS     the folder for the screenshots (exists)
//   E2E_CHROMIUM  the browser (/usr/bin/chromium)
//
// Output (stdout): one JSON object.

"use strict";

const path = require("path");
const { chromium } = require("playwright-core");

const NGINX = process.env.E2E_NGINX;
const SCALE = Number(process.env.E2E_SCALE || 1);
const SHOTS = process.env.E2E_SHOTS;
const CHROMIUM = process.env.E2E_CHROMIUM || "/usr/bin/chromium";

const STEP_MS = 5000 * SCALE;   // any one wait
const TOTAL_MS = 30000 * SCALE; // the whole script

const result = { steps: [], timings: [], pages: {}, screenshots: {} };
let browser = null;
let finished = false;
const users = [];

async function finish(code) {
  if (finished) {
    return;
  }
  finished = true;
  if (browser) {
    // closing is bounded too: a hung browser must not hang the test
    await Promise.race([
      browser.close().catch(() => {}),
      new Promise((r) => setTimeout(r, 3000 * SCALE)),
    ]);
  }
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}

setTimeout(() => {
  if (finished) {
    return;
  }
  result.error = `timed out after ${TOTAL_MS} ms, in step `
    + `"${result.steps[result.steps.length - 1]}"`;
  lastLook().then(() => finish(2));
}, TOTAL_MS).unref();

const t0 = Date.now();
function step(name) {
  result.steps.push(name);
  result.timings.push(`${Date.now() - t0} ms: ${name}`);
}

// one user: a context of its own, its page and what the page reported
async function openChat(name) {
  const context = await browser.newContext({
    viewport: { width: 800, height: 600 },
  });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  const log = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    httpErrors: [],
    messages: [],
    status: null,
  };
  result.pages[name] = log;

  page.on("console", (m) => {
    if (m.type() === "error") {
      log.consoleErrors.push({ text: m.text(), location: m.location() });
    }
  });
  page.on("pageerror", (e) => log.pageErrors.push(String(e && e.stack || e)));
  page.on("requestfailed", (r) => log.failedRequests.push(
    { url: r.url(), error: r.failure() && r.failure().errorText }));
  page.on("response", (r) => {
    if (r.status() >= 400) {
      log.httpErrors.push({ url: r.url(), status: r.status() });
    }
  });

  await page.goto(`${NGINX}/?name=${encodeURIComponent(name)}`,
    { waitUntil: "load", timeout: STEP_MS });
  const user = { name, context, page, log, closed: false };
  users.push(user);
  return user;
}

async function snapshot(user) {
  user.log.status = await user.page.textContent("#status");
  user.log.messages = await user.page.$$eval("#messages li",
    (lis) => lis.map((li) => ({ text: li.textContent, cls: li.className })));
}

// until #messages has an li with exactly this text (and this class, if given)
async function waitForMessage(user, text, cls) {
  try {
    await user.page.waitForFunction(([t, c]) =>
      [...document.querySelectorAll("#messages li")].some((li) =>
        li.textContent === t && (c === null || li.className === c)),
    [text, cls === undefined ? null : cls],
    { timeout: STEP_MS, polling: 50 });
  } catch (e) {
    await snapshot(user).catch(() => {});
    throw new Error(`${user.name}'s page never showed "${text}": ${e.message}`);
  }
}

async function waitConnected(user) {
  try {
    await user.page.waitForFunction(
      () => document.getElementById("status").textContent === "connected",
      null, { timeout: STEP_MS, polling: 50 });
  } catch (e) {
    await snapshot(user).catch(() => {});
    throw new Error(`${user.name}'s page is not connected: ${e.message}`);
  }
}

async function shoot(user) {
  const file = path.join(SHOTS, `e2e_browser-${user.name}.png`);
  await user.page.screenshot({ path: file, fullPage: true,
                               timeout: STEP_MS });
  result.screenshots[user.name] = file;
}

async function main() {
  step("launch Chromium");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox"],
    timeout: 15000 * SCALE,
  });
  result.browserVersion = browser.version();

  step("alice opens the chat");
  const alice = await openChat("alice");
  await waitConnected(alice);
  await waitForMessage(alice, "alice joined", "system");

  step("bob opens the chat");
  const bob = await openChat("bob");
  await waitConnected(bob);
  await waitForMessage(bob, "bob joined", "system");
  await waitForMessage(alice, "bob joined", "system");

  step("alice sends with the button");
  await alice.page.fill("#text", "hello from alice");
  await alice.page.click("#send");
  await waitForMessage(bob, "alice: hello from alice", "");
  await waitForMessage(alice, "alice: hello from alice", "me");
  result.aliceTextAfterSend = await alice.page.inputValue("#text");

  step("bob answers with Enter");
  await bob.page.fill("#text", "hi alice, bob here");
  await bob.page.press("#text", "Enter");
  await waitForMessage(alice, "bob: hi alice, bob here", "");
  await waitForMessage(bob, "bob: hi alice, bob here", "me");

  step("screenshots");
  for (const user of [alice, bob]) {
    await snapshot(user);
    await shoot(user);
  }

  step("bob closes his page");
  bob.closed = true;
  await bob.context.close();
  await waitForMessage(alice, "bob left", "system");
  await snapshot(alice);

  step("done");
}

// after a failure: what the open pages show, as far as it can be had soon
async function lastLook() {
  const look = Promise.all(users.filter((u) => !u.closed).map(async (u) => {
    await snapshot(u).catch(() => {});
    await shoot(u).catch(() => {});
  }));
  await Promise.race([look, new Promise((r) => setTimeout(r, STEP_MS))]);
}

main().then(() => finish(0), async (e) => {
  result.error = `${result.steps[result.steps.length - 1]}: `
    + (e && e.stack ? e.stack : String(e));
  await lastLook();
  finish(1);
});
