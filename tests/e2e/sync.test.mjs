// The station is unreachable during the drive and reachable at its end: records made
// offline are kept, the status says so in plain words, and they arrive when it returns.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { STATION, Station, click, fill, launchEnrolledApp, scanInto, shot, signIn, text } from "./harness.mjs";

let station;
let app;
let browser;

const pending = async () => Number(await text(browser, "#sync-pending"));
const syncState = async () => (await browser.$("#sync-status")).getAttribute("data-state");

before(async () => {
  station = await Station.create();
  const code = station.enroll("BUS-E2E");
  await station.start();
  app = await launchEnrolledApp(station, code, "BUS-E2E", 2);
  browser = app.browser;
});

after(async () => {
  await app?.close();
  await station?.stop();
});

test("enrolled at first start, the demo drive's records reach the station", async () => {
  await browser.waitUntil(async () => (await pending()) === 0 && (await syncState()) === "ok", {
    timeout: 60000, timeoutMsg: "the first sync never completed",
  });
  await shot(browser, "20-synced");
});

test("offline: work goes on, records wait and the status says so; they arrive when the station returns", async () => {
  await station.stop();
  await signIn(browser, "登记护士 李敏");
  await click(browser, "button[data-resume]");
  // A 38-year-old first-time donor: check-in needs no confirmation.
  await scanInto(browser, "#id-number", "110105198805120130");
  await fill(browser, "#reg-name", "周建国");
  await click(browser, "#register");
  await click(browser, "#check-in");
  assert.match(await text(browser, "#checkin-message"), /周建国/);
  await browser.waitUntil(async () => (await pending()) >= 2, { timeout: 10000 });

  await click(browser, "#sync-now");
  await browser.waitUntil(async () => (await syncState()) === "offline", {
    timeout: 30000, timeoutMsg: "the status never said the station is unreachable",
  });
  assert.match(await text(browser, "#sync-status"), /离线/);
  const waiting = await pending();
  assert.ok(waiting >= 2, `records made offline are pending (${waiting})`);
  await shot(browser, "21-offline");

  await station.start();
  await click(browser, "#sync-now");
  await browser.waitUntil(async () => (await pending()) === 0 && (await syncState()) === "ok", {
    timeout: 60000, timeoutMsg: "records never reached the station after it came back",
  });
  await shot(browser, "22-back-online");
  // The station's own view: this device is known and has pushed its whole log.
  const listing = execFileSync(STATION, ["--data-dir", station.dataDir, "device", "list"]).toString();
  assert.match(listing, /BUS-E2E/);
});
