// Check-in by the donor's pre-filled QR in the real window: the donor fills the station's
// /prefill page on a phone-sized headless Chromium ("tattoo", 3 months ago); the page's QR,
// drawn into a camera-like 1280×720 frame (turned, scaled to ~30 % of the height, blurred,
// noisy), is read by the tablet's camera scan (LIFEBRIDGE_CAMERA_FILES stands in for the
// camera: this machine has none); the nurse sees who it is and what it holds, checks the
// new donor in with one tap, and the physician's screening screen shows the answers
// ("tattoo" yes, with its date). A code for another day (the page makes none, so the
// prefill_frame example encodes it with the codec) is refused with the day it is for, and
// the manual check-in stays.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { cameraFrame } from "../desk/camera-frame.mjs";
import { KEY, ROOT, Station, click, demoStore, launchApp, scanInto, shot, signIn, text } from "./harness.mjs";

const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
const FRAME_TOOL = path.join(TARGET, "debug", "examples", "prefill_frame");

/** A valid GB 11643 resident ID from its first 17 digits (MOD 11-2). */
function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return first17 + "10X98765432"[sum % 11];
}

const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
// A woman born 1990-05-01 (even sequence digit) whom the demo store has never seen.
const DONOR = { id: residentId("11010519900501024"), name: "周晓梅", birth: "1990-05-01" };

/** The China date `days` from today, as YYYY-MM-DD. */
function chinaDay(days = 0) {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
/** `day` `n` calendar months back, the day clamped to the month's last (as the core counts). */
function monthsBack(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const months = y * 12 + (m - 1) - n;
  const [yy, mm] = [Math.floor(months / 12), months % 12];
  const last = new Date(Date.UTC(yy, mm + 1, 0)).getUTCDate();
  return `${yy}-${String(mm + 1).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}
const TODAY = chinaDay();
const YESTERDAY = chinaDay(-1);
const TATTOOED = monthsBack(TODAY, 3);

const dir = mkdtempSync(path.join(tmpdir(), "lifebridge-prefill-"));
// The "camera" reads this file at each scan; a test rewrites it to show another code.
const FRAME = path.join(dir, "camera-frame.png");

/** Writes `donor`'s code for `validOn` into the camera frame; returns the code's text. */
function showCode(validOn, donor = DONOR) {
  const answers = { feel_well: true, tattoo: true, tattoo_when: TATTOOED };
  return execFileSync(FRAME_TOOL, [
    "--out", FRAME, "--valid-on", validOn, "--resident-id", donor.id, "--name", donor.name,
    "--phone", "13911112222", "--answers", JSON.stringify(answers),
  ]).toString().trim();
}

/** The donor on their phone: the station's /prefill page in a phone-sized headless
 * Chromium (China time), filled as the donor would, its QR photographed into FRAME. */
async function fillThePage(station) {
  const chrome = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const context = await chrome.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai", viewport: { width: 412, height: 915 } });
    const page = await context.newPage();
    await page.goto(`${station.url}/prefill`, { waitUntil: "load" });
    await page.locator("#doc-number").fill(DONOR.id);
    await page.locator("#doc-name").fill(DONOR.name);
    await page.locator("#doc-phone").fill("13911112222");
    await page.locator("#day").fill(TODAY);
    // Every question shown: "no", except feeling well, sleep and food, and the tattoo.
    const rows = await page.$$eval('[id^="q-"]', (els) => els.filter((e) => !e.hidden).map((e) => [e.id.slice(2), e.dataset.type]));
    for (const [id, type] of rows) {
      if (type !== "yes_no") continue;
      const yes = ["feel_well", "slept_ate", "tattoo"].includes(id);
      await page.locator(`#q-${id} input[value="${yes}"]`).check();
    }
    await page.locator("#q-tattoo_when").waitFor({ state: "visible" });
    await page.locator("#q-tattoo_when .ago-n").fill("3");
    await page.locator("#q-tattoo_when .ago-unit").selectOption("months");
    await page.locator("#generate").click();
    await page.locator("#qr-canvas").waitFor();
    writeFileSync(FRAME, await cameraFrame(page));
    await page.screenshot({ path: path.join(ROOT, "artifacts", "e2e", "prefill-00-phone.png"), fullPage: true });
  } finally {
    await chrome.close();
  }
}

let station;
let app;
let browser;

before(async () => {
  station = await Station.create();
  await station.start();
  await fillThePage(station);
  const { store } = demoStore(2);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY, LIFEBRIDGE_CAMERA_FILES: FRAME });
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `prefill-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => {
  await app?.close();
  await station?.stop();
});

async function resumeDrive() {
  await click(browser, "button[data-resume]");
  await browser.$("[data-testid=current-drive]").waitForDisplayed({ timeout: 10000 });
}

async function signOut() {
  await click(browser, "#sign-out");
  await browser.$("button[data-staff]").waitForDisplayed({ timeout: 10000 });
}

test("a camera scan of the donor's pre-filled code registers and checks them in, and screening shows the answers", async () => {
  await signIn(browser, NURSE);
  await resumeDrive();
  await click(browser, "#tab-checkin");
  await click(browser, "#scan-camera");
  const who = await text(browser, "#prefill-view", 20000);
  assert.match(who, new RegExp(DONOR.name));
  assert.match(who, /女/);
  assert.match(await text(browser, "#prefill-who"), /新献血者/);
  const tattoo = await browser.$('#prefill-answers tr[data-question="tattoo"]');
  assert.match(await tattoo.getText(), /是.*TATTOO/s);
  assert.match(await (await browser.$('#prefill-answers tr[data-question="tattoo_when"]')).getText(), new RegExp(TATTOOED));
  assert.equal(await browser.$('#prefill-answers tr[data-question="pregnant"]').isExisting(), true, "a woman's questions are answered");
  await shot(browser, "prefill-01-read");

  await click(browser, "#prefill-check-in");
  await browser.waitUntil(
    async () => (await browser.$("#checkin-message").isDisplayed()) || (await browser.$("#prefill-error").isDisplayed()),
    { timeout: 20000, timeoutMsg: "check-in gave no answer" },
  );
  if (await browser.$("#prefill-error").isDisplayed()) assert.fail(`check-in refused: ${await text(browser, "#prefill-error")}`);
  assert.match(await text(browser, "#checkin-message"), new RegExp(DONOR.name));
  await signOut();

  await signIn(browser, PHYSICIAN);
  await resumeDrive();
  await click(browser, "#tab-screening");
  const select = await browser.$("#screen-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await select.selectByVisibleText(`${DONOR.name} · ${DONOR.birth}`);
  const answers = await text(browser, "#prefilled-answers", 10000);
  assert.match(answers, /文身|纹身|tattoo/i);
  assert.match(await (await browser.$('#prefilled-answers tr[data-question="tattoo"]')).getText(), /是/);
  assert.match(await (await browser.$('#prefilled-answers tr[data-question="tattoo_when"]')).getText(), new RegExp(TATTOOED));
  await shot(browser, "prefill-02-screening");
  await signOut();
});

test("a code for another day is refused with the day it is for, and the manual check-in stays", async () => {
  const code = showCode(YESTERDAY);
  await signIn(browser, NURSE);
  await resumeDrive();
  await click(browser, "#tab-checkin");
  await click(browser, "#scan-camera");
  const refusal = await text(browser, "#prefill-error", 20000);
  assert.match(refusal, new RegExp(`只在 ${YESTERDAY} 当天有效`));
  assert.equal(await browser.$("#prefill-view").isExisting(), false);
  assert.ok(await browser.$("#id-number").isDisplayed(), "the manual check-in is still there");
  await shot(browser, "prefill-03-expired");

  // A 2-D hand scanner types the same code (after the QR's AIM identifier), and Enter,
  // into the focused ID field.
  await scanInto(browser, "#id-number", `]Q1${code}`);
  await browser.waitUntil(async () => new RegExp(YESTERDAY).test(await text(browser, "#prefill-error")), {
    timeout: 20000, timeoutMsg: "the scanned code was not read as a pre-fill code",
  });
});

test("a donor too old for whole blood is registered from the code and checked in only with a reason", async () => {
  // Born 1950: past every age limit, which the core says at check-in as for any donor.
  const OLD = { id: residentId("11010519500301013"), name: "吴国栋" };
  showCode(TODAY, OLD);
  await click(browser, "#scan-camera");
  assert.match(await text(browser, "#prefill-who", 20000), /新献血者/);
  await click(browser, "#prefill-check-in");
  // Registered now; the screen reads the code again and shows why a reason is needed.
  const reason = await browser.$("#prefill-confirm-reason");
  await reason.waitForDisplayed({ timeout: 20000 });
  assert.match(await text(browser, "#prefill-who"), /本机已有此献血者/);
  assert.equal(await (await browser.$("#prefill-check-in")).isEnabled(), false, "no check-in without a reason");
  await shot(browser, "prefill-04-needs-reason");
  await reason.setValue("来做单采血浆咨询");
  await click(browser, "#prefill-check-in");
  assert.match(await text(browser, "#checkin-message", 20000), new RegExp(OLD.name));
});
