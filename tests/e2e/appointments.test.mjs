// Appointments: the station's booking list for today's site reaches the bus; the
// registration nurse sees who is booked, checks a booked donor in from the list, and the
// list then shows them as arrived. A cancelled booking is shown struck out, not hidden.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { STATION, Station, click, launchEnrolledApp, shot, signIn, text } from "./harness.mjs";

let station;
let app;
let browser;

/** A valid GB 11643 resident ID from its first 17 digits (MOD 11-2). */
function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return first17 + "10X98765432"[sum % 11];
}

const SITE = "示范采血点 · 人民广场"; // the demo drive's site
const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); // China date

before(async () => {
  station = await Station.create();
  const code = station.enroll("BUS-APPT");
  const csv = path.join(station.dataDir, "bookings.csv");
  writeFileSync(csv, [
    "日期,时间,地点,姓名,证件号码,电话,献血类型,备注,取消",
    `${today},09:00,${SITE},王芳,${residentId("11010519900307002")},13912345678,全血,首次献血,否`,
    `${today},09:30,${SITE},赵磊,${residentId("11010519880512003")},,单采血小板,,是`,
    `${today},10:00,另一个采血点,孙丽,${residentId("11010519920101004")},,全血,,否`,
  ].join("\n"));
  const out = execFileSync(STATION, ["--data-dir", station.dataDir, "appointment", "import", csv]).toString();
  assert.match(out, /3 appointments read, 3 new or changed/);
  await station.start();
  app = await launchEnrolledApp(station, code, "BUS-APPT", 1);
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `appointments-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => {
  await app?.close();
  await station?.stop();
});

test("booked donors for today's site are listed at check-in and checked in from the list", async () => {
  await browser.waitUntil(async () => (await (await browser.$("#sync-status")).getAttribute("data-state")) === "ok", {
    timeout: 60000, timeoutMsg: "the first sync never completed",
  });
  await signIn(browser, "登记护士 李敏");
  await click(browser, "button[data-resume]");
  // The list arrives with the sync; the check-in screen reads it when it opens.
  const list = await text(browser, "#appointments", 20000);
  assert.match(list, /王芳/);
  assert.match(list, /未到/);
  assert.match(list, /赵磊.*已取消/s);
  assert.doesNotMatch(list, /孙丽/, "another site's bookings are not this drive's");
  assert.match(list, /0\/1 已到/);
  await browser.pause(300); // let WebKit paint the list before the screenshot
  await shot(browser, "40-appointments");

  await click(browser, 'button[data-appointment="王芳"]');
  await browser.waitUntil(async () => (await (await browser.$("#reg-name")).getValue()) === "王芳", {
    timeout: 10000, timeoutMsg: "the booking's name was not offered for registration",
  });
  assert.equal(await (await browser.$("#reg-phone")).getValue(), "13912345678");
  assert.match(await text(browser, "#id-ok"), /✓/);
  await click(browser, "#register");
  await click(browser, "#check-in");
  // The answer is either the confirmation or a refusal: say which, with its words.
  await browser.waitUntil(
    async () => (await browser.$("#checkin-message").isDisplayed()) || (await browser.$("#checkin-error").isDisplayed()),
    { timeout: 20000, timeoutMsg: "check-in gave no answer" },
  );
  if (await browser.$("#checkin-error").isDisplayed()) {
    assert.fail(`check-in refused: ${await text(browser, "#checkin-error")}`);
  }
  assert.match(await text(browser, "#checkin-message"), /王芳/);
  await browser.waitUntil(async () => /1\/1 已到/.test(await text(browser, "#appointments")), {
    timeout: 10000, timeoutMsg: "the list never showed the donor as arrived",
  });
  await shot(browser, "41-appointment-arrived");
});
