// The cold chain's return leg in the real app window: the driver packs and dispatches on
// the bus, the manifest reaches a real station by sync, the receiving desk (its JSON API,
// as the desk page calls it) receives all bags but one and both parties sign with a
// reason for the missing bag; after "sync now" the driver reads that signed hand-off on
// the manifest card: who received it, how many bags, which bag is missing and why.
// The driver's account is the station's: it reaches the tablet by the first sync, and the
// driver signs the dispatch on the tablet and the hand-off at the desk with one PIN.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { Station, click, fill, labelScan, launchEnrolledApp, scanInto, shot, signIn, text } from "./harness.mjs";

const DRIVER = "司机 周勇";
const DRIVER_PIN = "135791";
const RECEIVER = "赵敏";
const BOX = "BOX-R1";
const REASON = "运输途中破损，已在车上报废 / broken in transit, discarded on the bus";

let station;
let app;
let browser;
/** The DINs of the bags the driver packed, read off the app window. */
let dins = [];
let manifestId;

/** What the scanner sends for a primary bag label: AIM identifier `]C0`, `=` DIN, flags 01. */
const bagLabel = (din) => `]C0=${din}01`;
const pending = async () => Number(await text(browser, "#sync-pending"));
const syncState = async () => (await browser.$("#sync-status")).getAttribute("data-state");

/** One call to the receiving desk's JSON API; answers `[status, body]`. */
async function desk(method, path, token, body) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${station.url}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = await res.text();
  let json = null;
  try { json = JSON.parse(raw); } catch { json = raw; }
  return [res.status, json];
}

before(async () => {
  station = await Station.create();
  const code = station.enroll("BUS-HANDOFF");
  station.addStaff(RECEIVER, "receiving", "246802");
  station.addStaff(DRIVER, "driver", DRIVER_PIN);
  await station.start();
  app = await launchEnrolledApp(station, code, "BUS-HANDOFF", 3);
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `handoff-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => {
  await app?.close();
  await station?.stop();
});

test("the driver packs every released bag into a red-cell box and dispatches; the manifest syncs", async () => {
  await browser.waitUntil(async () => (await syncState()) === "ok", {
    timeout: 60000, timeoutMsg: "the first sync never completed",
  });
  // The station-issued account is on the sign-in screen once the first sync is in.
  await browser.$(`button[data-staff="${DRIVER}"]`).waitForDisplayed({ timeout: 15000 });
  await shot(browser, "handoff-00-station-account-on-sign-in");
  await signIn(browser, DRIVER, DRIVER_PIN);
  // The header names the tablet as the station enrolled it (the demo store calls itself DEMO-BUS).
  await browser.waitUntil(async () => (await text(browser, "#device-name")) === "BUS-HANDOFF", {
    timeout: 10000, timeoutMsg: "the header does not show the enrolled name",
  });
  await click(browser, "button[data-resume]");
  await browser.$("[data-testid=current-drive]").waitForDisplayed({ timeout: 10000 });
  await click(browser, "#tab-transport");
  await browser.$("#unpacked").waitForDisplayed({ timeout: 10000 });
  for (const li of await browser.$$("#unpacked li[data-din]")) dins.push(await li.getAttribute("data-din"));
  assert.equal(dins.length, 3, `three released bags wait to be packed: ${dins}`);

  await fill(browser, "#box-code", BOX);
  await (await browser.$("#box-class")).selectByAttribute("value", "red_cell_whole_blood");
  await click(browser, "#open-box");
  await browser.$(`.box[data-box="${BOX}"]`).waitForDisplayed({ timeout: 10000 });
  for (const din of dins) {
    await scanInto(browser, "#pack-scan", bagLabel(din));
    await browser.$(`.box[data-box="${BOX}"] li[data-din="${din}"]`).waitForDisplayed({ timeout: 10000 });
  }
  await browser.$("#no-unpacked").waitForDisplayed({ timeout: 10000 });

  await fill(browser, "#dispatch-pin", DRIVER_PIN);
  await click(browser, "#dispatch");
  await browser.$(".manifest").waitForDisplayed({ timeout: 10000 });
  assert.match(await text(browser, "#transport-message"), /已发运|Dispatched/);
  manifestId = await browser.$(".manifest").getAttribute("data-manifest");
  assert.ok(manifestId, "the manifest card names its manifest");
  assert.equal(await browser.$(".manifest .handoff").isExisting(), false, "nothing is handed off yet");
  await shot(browser, "handoff-01-dispatched");

  // The dispatch is in the change log; the 2-second replicator (or the button) sends it.
  await click(browser, "#sync-now");
  await browser.waitUntil(async () => (await pending()) === 0 && (await syncState()) === "ok", {
    timeout: 60000, timeoutMsg: "the manifest never reached the station",
  });
});

test("the receiving desk receives all bags but one and both parties sign with a reason", async () => {
  const [signInStatus, session] = await desk("POST", "/desk/api/sign-in", null, { name: RECEIVER, pin: "246802" });
  assert.equal(signInStatus, 200, JSON.stringify(session));
  assert.equal(session.staff.name, RECEIVER);
  const token = session.token;

  // The replicated manifest is listed at the desk, as the bus signed it.
  const [listStatus, manifests] = await desk("GET", "/desk/api/manifests", token);
  assert.equal(listStatus, 200, JSON.stringify(manifests));
  const listed = manifests.find((m) => m.manifest_id === manifestId);
  assert.ok(listed, `the desk lists manifest ${manifestId}: ${JSON.stringify(manifests)}`);
  assert.equal(listed.bags, 3);
  assert.equal(listed.replicated, true);

  const [openStatus, opened] = await desk("POST", "/desk/api/receipts", token, { manifest_ids: [manifestId] });
  assert.equal(openStatus, 201, JSON.stringify(opened));
  const receipt = opened.receipt_id;

  const [received, lost] = [dins.slice(0, 2), dins[2]];
  let view;
  for (const din of received) {
    const [status, body] = await desk("POST", `/desk/api/receipts/${receipt}/scans`, token, { text: bagLabel(din), box_code: BOX });
    assert.equal(status, 200, JSON.stringify(body));
    view = body;
    // The sample tubes the manifest lists with the bag are received with it.
    const tubes = body.reconciliation.lines.find((l) => l.din === din).tubes;
    assert.equal(tubes.length, 2, `the manifest lists the bag's tubes: ${JSON.stringify(tubes)}`);
    for (const tube of tubes) {
      const [tubeStatus, tubeView] = await desk("POST", `/desk/api/receipts/${receipt}/scans`, token, {
        text: `]C0${labelScan(din, tube.kind, tube.piece)}`, box_code: BOX,
      });
      assert.equal(tubeStatus, 200, JSON.stringify(tubeView));
      view = tubeView;
    }
  }
  assert.equal(view.reconciliation.tally.tubes_missing ?? 0, 0, "every received bag came with its tubes");
  assert.equal(view.reconciliation.tally.received, 2);
  assert.equal(view.reconciliation.tally.missing, 1);
  const missingLine = view.reconciliation.lines.find((l) => l.status === "missing");
  assert.equal(missingLine?.din, lost, "the bag not scanned is the missing one");

  // No reason for the missing bag: refused before any PIN is checked.
  const [refused, why] = await desk("POST", `/desk/api/receipts/${receipt}/sign`, token, {
    receiver_pin: "246802", driver_name: DRIVER, driver_pin: DRIVER_PIN, reasons: {},
  });
  assert.equal(refused, 422, JSON.stringify(why));
  assert.equal(why.error, "reason_missing");
  assert.equal(why.din, lost);

  const [signStatus, record] = await desk("POST", `/desk/api/receipts/${receipt}/sign`, token, {
    receiver_pin: "246802", driver_name: DRIVER, driver_pin: DRIVER_PIN, reasons: { [lost]: REASON },
  });
  assert.equal(signStatus, 200, JSON.stringify(record));
  assert.equal(record.receiver.name, RECEIVER);
  assert.equal(record.driver.name, DRIVER);
  assert.deepEqual(record.manifest_ids, [manifestId]);
  assert.equal(record.tally.received, 2);
  assert.equal(record.tally.missing, 1);
});

test("after sync now, the manifest card shows the signed hand-off as the driver reads it", async () => {
  // The driver stays on the transport screen and presses the button, as on the bus.
  await click(browser, "#sync-now");
  const card = `.manifest[data-manifest="${manifestId}"]`;
  const handoff = await browser.$(`${card} .handoff`);
  await handoff.waitForDisplayed({ timeout: 30000, timeoutMsg: "the signed hand-off never appeared on the manifest card" });
  await handoff.scrollIntoView({ block: "center" });
  await browser.pause(300); // let WebKit paint the card before the screenshot
  await shot(browser, "handoff-02-received");

  const shown = await handoff.getText();
  assert.match(shown, new RegExp(`血站已签收：${RECEIVER}`), `the receiver is named: ${shown}`);
  assert.match(shown, /收到 2 \/ 3 袋，缺少 1，多出 0/, `the count received: ${shown}`);
  assert.equal(await handoff.getAttribute("class"), "card handoff warn", "a hand-off with a missing bag is a warning");

  const lines = await browser.$$(`${card} .handoff li[data-din]`);
  assert.equal(lines.length, 1, "one discrepancy: the missing bag");
  assert.equal(await lines[0].getAttribute("data-din"), dins[2]);
  const line = await lines[0].getText();
  assert.ok(line.includes(dins[2]), `the missing bag's DIN: ${line}`);
  assert.match(line, /缺少/, `its status: ${line}`);
  assert.ok(line.includes(REASON), `the reason given at the desk: ${line}`);
  // The received bags are not listed as discrepancies.
  for (const din of dins.slice(0, 2)) {
    assert.equal(await browser.$(`${card} .handoff li[data-din="${din}"]`).isExisting(), false);
  }
});
