// The example page in Debian's Chromium (Playwright, playwright-core), loaded from a frontend
// origin that CORS_ORIGINS allows, against the running binary on another port: every step of
// the page, the headers its script can read, and a refusal on an origin that is not allowed.
//
// Env: API_BASE (the binary), PAGE_ORIGIN (allowed), OTHER_ORIGIN (not in CORS_ORIGINS),
//   MAIN_EMAIL, MAIN_PASSWORD (a main user), CHROMIUM (default /usr/bin/chromium),
//   REPORT_DIR (screenshots; default: none).
// Prints one line per check and closes with "N passed, N failed".

import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};
const API = env("API_BASE");
const PAGE_ORIGIN = env("PAGE_ORIGIN");
const OTHER_ORIGIN = env("OTHER_ORIGIN");
const EMAIL = env("MAIN_EMAIL");
const PASSWORD = env("MAIN_PASSWORD");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const REPORT_DIR = process.env.REPORT_DIR;

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` - ${detail}` : ""}`);
  return ok;
}
function equal(name, actual, expected) {
  const same = JSON.stringify(actual) === JSON.stringify(expected);
  return check(name, same, same ? JSON.stringify(actual) : `got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

// --- The same API from Node, outside the browser: to set the scene and to know the answers ---

async function call(method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(API + path, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { response, json: text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

async function signInFromNode() {
  const { response, json } = await call("POST", "/auth/login", { body: { email: EMAIL, password: PASSWORD } });
  if (response.status !== 200) throw new Error(`sign-in from Node: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

async function everyUser(token, query) {
  const emails = [];
  let cursor;
  do {
    const params = new URLSearchParams({ ...query, limit: "200", ...(cursor ? { cursor } : {}) });
    const { json } = await call("GET", `/users?${params}`, { token });
    emails.push(...json.items.map((user) => user.email));
    cursor = json.next_cursor ?? undefined;
  } while (cursor);
  return emails;
}

const run = Date.now().toString(36);
const token = await signInFromNode();
// Two more colleagues, so that a walk of two per page needs three pages.
for (const n of [1, 2]) {
  const { response } = await call("POST", "/users", {
    token,
    body: { email: `collega-${n}-${run}@demo.example.nl`, first_name: "Collega", last_name: `Nummer ${n}` },
  });
  if (response.status !== 201) throw new Error(`creating a colleague: ${response.status}`);
}
const colleagues = await everyUser(token, { role: "user" });

// --- The browser --------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
});
const context = await browser.newContext({ acceptDownloads: true });
context.setDefaultTimeout(10_000);
const page = await context.newPage();
const consoleLines = [];
page.on("console", (message) => consoleLines.push(message.text()));
page.on("pageerror", (error) => consoleLines.push(`page error: ${error.message}`));
// What the network really answered (Playwright sees every header, CORS or not): the page must
// show the same values, which it can only if the browser let its script read them.
const seen = [];
page.on("response", (response) => {
  if (response.url().startsWith(API) && response.request().method() !== "OPTIONS") seen.push(response);
});
const lastSeen = (predicate) => [...seen].reverse().find(predicate);
const shown = (id) => page.locator(`#${id}`).textContent();
// Clicks something that loads a page of the list, and waits until the page shows it.
async function clickAndList(selector) {
  await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${API}/users?`) && r.request().method() === "GET"),
    page.click(selector),
  ]);
  await page.waitForSelector("#users[aria-busy=false]");
}
async function snapshot(name) {
  if (REPORT_DIR) await page.screenshot({ path: join(REPORT_DIR, `${name}.png`), fullPage: true });
}
if (REPORT_DIR) await mkdir(REPORT_DIR, { recursive: true });

try {
  await page.goto(`${PAGE_ORIGIN}/?api=${encodeURIComponent(API)}`);
  equal("the page knows the API's address", await shown("api-base"), API);

  // 1. Sign in.
  await page.fill("#signin-form [name=email]", EMAIL);
  await page.fill("#signin-form [name=password]", PASSWORD);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#users:not([hidden])[aria-busy=false]");
  equal("signed in", await shown("signin-status"), `Aangemeld als ${EMAIL}`);
  const login = lastSeen((r) => r.url() === `${API}/auth/login`);
  check("the sign-in answer came from the API", login?.status() === 200, String(login?.status()));
  check(
    "the page reads X-Request-Id of the list it loaded",
    (await shown("request-id")) === (await lastSeen((r) => r.url().includes("/users"))?.headerValue("x-request-id")),
  );

  // 2. The list with a filter, walked with the cursor, two per page.
  await page.selectOption("#filter-form [name=role]", "user");
  await page.fill("#filter-form [name=limit]", "2");
  await clickAndList("#filter-form button[type=submit]");
  const walked = [];
  let pages = 0;
  for (;;) {
    pages += 1;
    walked.push(...(await page.locator("#user-rows tr td:nth-child(2)").allTextContents()));
    if (await page.locator("#next-page").isHidden()) break;
    await clickAndList("#next-page");
  }
  check("there are enough colleagues to need the cursor", colleagues.length >= 5, `${colleagues.length}`);
  equal("the cursor walk of role=user lists each colleague once, in order", walked, colleagues);
  equal("pages of two", pages, Math.ceil(colleagues.length / 2));
  await snapshot("1-list");

  // 3. Open one user: the ETag.
  const target = colleagues[0];
  await clickAndList("#filter-form button[type=submit]");
  await page.locator("#user-rows tr", { hasText: target }).click();
  await page.waitForSelector("#detail:not([hidden])");
  await page.waitForFunction((email) => document.querySelector("#detail-name")?.textContent?.includes(email), target);
  const etag = await shown("detail-etag");
  const opened = lastSeen((r) => /\/users\/[0-9a-f-]{36}$/.test(r.url()) && r.request().method() === "GET");
  check("the page reads the ETag of GET /users/{id}", etag !== "" && etag === (await opened?.headerValue("etag")), etag);
  const userPath = new URL(opened.url()).pathname;

  // 4. Edit with If-Match.
  await page.fill("#edit-form [name=job_title]", "Teamleider");
  await page.click("#edit-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#edit-status")?.textContent === "Opgeslagen");
  const patch = lastSeen((r) => r.request().method() === "PATCH");
  equal("the PATCH sent the ETag it read as If-Match", await patch?.request().headerValue("if-match"), etag);
  const newEtag = await shown("detail-etag");
  check("the edit answered a new ETag", newEtag !== etag && newEtag === (await patch?.headerValue("etag")), `${etag} -> ${newEtag}`);
  equal("the edit is stored", (await call("GET", userPath, { token })).json.job_title, "Teamleider");

  // 5. 412: a colleague changes the user meanwhile; this page's ETag is stale now.
  const meanwhile = await call("PATCH", userPath, { token, body: { job_title: "Planner" }, headers: { "If-Match": newEtag } });
  equal("(a colleague's edit in between)", meanwhile.response.status, 200);
  await page.fill("#edit-form [name=job_title]", "Coördinator");
  await page.click("#edit-form button[type=submit]");
  await page.waitForSelector("#problem:not([hidden])");
  equal("a stale If-Match shows 412", await shown("problem-status"), "412");
  equal("with its code", await shown("problem-code"), "precondition_failed");
  equal("in Dutch (Accept-Language: nl)", await shown("problem-title"), "Voorwaarde niet vervuld");
  const stale = lastSeen((r) => r.request().method() === "PATCH");
  check(
    "the problem's request_id is the X-Request-Id the page read",
    (await shown("problem-request-id")) === (await shown("request-id")) &&
      (await shown("request-id")) === (await stale?.headerValue("x-request-id")),
    await shown("request-id"),
  );
  equal("nothing was overwritten", (await call("GET", userPath, { token })).json.job_title, "Planner");
  await snapshot("2-412");

  // 6. 422: open it again (fresh ETag), then an empty first name.
  await page.locator("#user-rows tr", { hasText: target }).click();
  await page.waitForFunction(() => document.querySelector("#problem")?.hidden === true);
  await page.fill("#edit-form [name=first_name]", "");
  await page.click("#edit-form button[type=submit]");
  await page.waitForSelector("#problem:not([hidden])");
  equal("an empty first name shows 422", await shown("problem-status"), "422");
  equal("with its code", await shown("problem-code"), "validation_failed");
  equal("in Dutch", await shown("problem-title"), "Validatie mislukt");
  // The field's message as the API words it in each language, asked from Node.
  const worded = async (language) =>
    (await call("PATCH", userPath, { token, body: { first_name: "" }, headers: { "Accept-Language": language } })).json
      .errors?.find((e) => e.field === "first_name");
  const [dutch, english] = [await worded("nl"), await worded("en")];
  const fieldErrors = await page.locator("#problem-errors li[data-field=first_name]").allTextContents();
  equal("naming the field with the API's Dutch text", fieldErrors, [`first_name: ${dutch?.message} (${dutch?.code})`]);
  check("which is not the English one", dutch !== undefined && dutch.message !== english?.message, `${dutch?.message} / ${english?.message}`);
  await snapshot("3-422");

  // 7. A new user, retry-safe: Location, then Idempotent-Replayed on the retry.
  await page.fill("#create-form [name=email]", `nieuw-${run}@demo.example.nl`);
  await page.fill("#create-form [name=first_name]", "Nieuwe");
  await page.fill("#create-form [name=last_name]", "Collega");
  await page.click("#create-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#create-location")?.textContent !== "");
  const location = await shown("create-location");
  check("the page reads Location of 201", /^\/users\/[0-9a-f-]{36}$/.test(location), location);
  equal("first answer is not a replay", await shown("create-replayed"), "false");
  await page.click("#create-retry");
  await page.waitForFunction(() => document.querySelector("#create-replayed")?.textContent === "true");
  equal("the retry with the same Idempotency-Key is the first answer again", await shown("create-location"), location);
  equal("the user exists once", (await everyUser(token, { q: `nieuw-${run}` })).length, 1);

  // 8. The CSV export of the filtered list.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  equal("the download is named", download.suggestedFilename(), "gebruikers.csv");
  const csv = await readFile(await download.path(), "utf8");
  const lines = csv.replace(/^\uFEFF/, "").trim().split(/\r?\n/);
  const withRole = await everyUser(token, { role: "user" });
  equal("the CSV has a header and one line per matching user", lines.length, withRole.length + 1);
  check("every matching user is in it", withRole.every((email) => csv.includes(email)), `${withRole.length} users`);
  check("its header is Dutch", /Voornaam/.test(lines[0] ?? ""), lines[0]);

  // 9. An origin that CORS_ORIGINS does not list: the browser refuses the answer.
  const other = await context.newPage();
  const otherConsole = [];
  other.on("console", (message) => otherConsole.push(message.text()));
  await other.goto(`${OTHER_ORIGIN}/?api=${encodeURIComponent(API)}`);
  await other.fill("#signin-form [name=email]", EMAIL);
  await other.fill("#signin-form [name=password]", PASSWORD);
  await other.click("#signin-form button[type=submit]");
  await other.waitForSelector("#problem:not([hidden])");
  equal("from another origin the call fails in the browser", await other.locator("#problem-code").textContent(), "network_error");
  check(
    "and the browser names CORS as the reason",
    otherConsole.some((line) => line.includes("blocked by CORS policy") && line.includes(OTHER_ORIGIN)),
    otherConsole.find((line) => line.includes("CORS")) ?? otherConsole.join(" | "),
  );
  check("the other page never signed in", await other.locator("#users").isHidden());
  await other.close();

  // 10. Last (it throttles sign-ins from this address too): five failed sign-ins on a
  // throwaway account, then 429 with Retry-After.
  const throwaway = `weggooi-${run}@demo.example.nl`;
  const statuses = [];
  for (let i = 0; i < 6; i += 1) {
    await page.evaluate(() => {
      document.querySelector("#problem").hidden = true;
    });
    await page.fill("#signin-form [name=email]", throwaway);
    await page.fill("#signin-form [name=password]", `fout-${i}`);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#problem:not([hidden])");
    statuses.push(await shown("problem-status"));
  }
  equal("five failed sign-ins, then 429", statuses, ["401", "401", "401", "401", "401", "429"]);
  const throttled = lastSeen((r) => r.url() === `${API}/auth/login`);
  const retryAfter = await shown("problem-retry-after");
  check(
    "the page reads Retry-After",
    Number(retryAfter) >= 1 && Number(retryAfter) <= 900 && retryAfter === (await throttled?.headerValue("retry-after")),
    `${retryAfter} s`,
  );
  equal("Dutch 429", await shown("problem-title"), "Te veel verzoeken");
  await snapshot("4-429");

  const scriptErrors = consoleLines.filter((line) => line.startsWith("page error") || /Uncaught|TypeError/.test(line));
  check("no script errors on the allowed origin", scriptErrors.length === 0, scriptErrors.join(" | "));
} catch (error) {
  check("the page did every step", false, error?.stack ?? String(error));
  // What the page itself showed, often the reason (e.g. a header the browser hid).
  const problem = await page.locator("#problem:not([hidden])").textContent({ timeout: 1000 }).catch(() => null);
  if (problem) console.log(`     the page shows: ${problem.replace(/\s+/g, " ").trim()}`);
  await snapshot("failure").catch(() => {});
} finally {
  await browser.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
