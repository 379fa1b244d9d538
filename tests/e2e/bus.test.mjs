// A bus with no internet, in two real app windows (two tauri-driver sessions) enrolled with
// one hub whose link to the station is off: a donor checked in on the registration tablet
// is in the physician's screening list within 2 s; the physician's decision is in the
// registration tablet's queue within 2 s; once the hub's link is switched on, the
// tablets' records are at the station, each once. Every tablet's periodic sync is 60 s:
// only the hub's event stream and the tablets' own pushes move records.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CLI, Hub, KEY, STATION, Station, answerNothingToDeclare, click, demoStore, fill, launchApp, scanInto, shot, signConsent, signIn, text, resumeDrive } from "./harness.mjs";

const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
const DONOR = { id: "330106199005150026", name: "孙秀英", birth: "1990-05-15" };
const LIVE_MS = 2000;

let station;
let hub;
let reg;
let doc;

/** A tablet's store with the demo crew only: it joins the drive the first tablet opened. */
function crewOnlyStore() {
  const dir = mkdtempSync(path.join(tmpdir(), "lifebridge-e2e-"));
  const store = path.join(dir, "device.db");
  execFileSync(CLI, ["store", "demo", "--store", store, "--crew-only"], {
    env: { ...process.env, LIFEBRIDGE_STORE_KEY: KEY }, stdio: ["ignore", "ignore", "inherit"],
  });
  return store;
}

function tablet(store, name) {
  return launchApp({
    LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY, LIFEBRIDGE_DEVICE_NAME: name,
    LIFEBRIDGE_STATION_URL: hub.url, LIFEBRIDGE_ENROLL_CODE: hub.enroll(name), LIFEBRIDGE_SYNC_INTERVAL_SECS: "60",
  });
}

async function fillVitals(browser, v) {
  for (const [id, value] of Object.entries(v)) {
    const el = await browser.$(`#${id}`);
    await el.waitForDisplayed({ timeout: 10000 });
    await el.clearValue();
    await el.setValue(value);
  }
}

/** Held seq per device name as the station lists them (`device list`). */
function stationHeld() {
  const out = execFileSync(STATION, ["--data-dir", station.dataDir, "device", "list"]).toString();
  const held = {};
  for (const line of out.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 3) held[cols[1]] = Number(cols[3]);
  }
  return held;
}

before(async () => {
  station = await Station.create();
  await station.start();
  hub = await Hub.create(station);
  // Enrolled with the station (which leases it DINs), then cut off: a village, no signal.
  await hub.start();
  await hub.link(false);
  reg = await tablet(demoStore(1).store, "TAB-REG");
  doc = await tablet(crewOnlyStore(), "TAB-DOC");
});

afterEach(async (t) => {
  for (const [name, app] of [["reg", reg], ["doc", doc]]) {
    if (app) await shot(app.browser, `bus-end-${name}-${t.name.slice(0, 30).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
  }
});

after(async () => {
  await reg?.close();
  await doc?.close();
  await hub?.stop();
  await station?.stop();
});

test("a donor checked in on the registration tablet is in the physician's list within 2 s", async () => {
  await signIn(doc.browser, PHYSICIAN);
  // The physician's tablet joined the drive the registration tablet opened.
  await resumeDrive(doc.browser);
  await click(doc.browser, "#tab-screening");
  await doc.browser.$("#screen-donor").waitForExist({ timeout: 10000 });

  await signIn(reg.browser, NURSE);
  await resumeDrive(reg.browser);
  await scanInto(reg.browser, "#id-number", DONOR.id);
  await fill(reg.browser, "#reg-name", DONOR.name);
  await click(reg.browser, "#register");
  const checkedIn = Date.now();
  await click(reg.browser, "#check-in");
  assert.match(await text(reg.browser, "#checkin-message"), new RegExp(DONOR.name));
  const label = `${DONOR.name} · ${DONOR.birth}`;
  await doc.browser.waitUntil(async () => {
    for (const o of await doc.browser.$$("#screen-donor option")) if ((await o.getText()) === label) return true;
    return false;
  }, { timeout: 10000, interval: 100, timeoutMsg: "the donor never reached the physician's tablet" });
  const took = Date.now() - checkedIn;
  console.log(`check-in tapped on TAB-REG → in the screening list on TAB-DOC: ${took} ms`);
  assert.ok(took < LIVE_MS, `the donor reached the physician's list in ${took} ms`);
  await shot(doc.browser, "bus-01-physician-sees-donor");
});

test("the physician's decision is in the registration tablet's queue within 2 s", async () => {
  const b = doc.browser;
  await b.$("#screen-donor").selectByVisibleText(`${DONOR.name} · ${DONOR.birth}`);
  await answerNothingToDeclare(b);
  await b.$("#volume").selectByAttribute("value", "400");
  await b.$("#hbsag").selectByAttribute("value", "negative");
  await fillVitals(b, { weight: "60", systolic: "118", diastolic: "76", pulse: "70", temperature: "36.5", hemoglobin: "130", alt: "18" });
  await b.waitUntil(async () => (await text(b, "#verdict")) === "符合献血条件", { timeout: 10000 });
  await signConsent(b);
  await click(reg.browser, "#tab-queue");
  const row = await reg.browser.$(`tr[data-donor="${DONOR.name}"]`);
  await row.waitForDisplayed({ timeout: 10000 });
  assert.equal(await row.getAttribute("data-status"), "waiting");
  const decided = Date.now();
  await click(b, "#accept");
  assert.match(await text(b, "#screening-saved"), /同意献血/);
  await reg.browser.waitUntil(async () => (await row.getAttribute("data-status")) === "screened", {
    timeout: 10000, interval: 100, timeoutMsg: "the decision never reached the registration tablet's queue",
  });
  const took = Date.now() - decided;
  console.log(`accept tapped on TAB-DOC → in the queue on TAB-REG: ${took} ms`);
  assert.ok(took < LIVE_MS, `the decision reached the queue in ${took} ms`);
  // Recorded on the other tablet, and said so (the physician's name shows where this
  // tablet holds the account: accounts the station issues are on every tablet).
  assert.match(await row.getText(), /另一台平板/);
  await shot(reg.browser, "bus-02-queue-shows-decision");
});

test("with the hub's link back on, every record of both tablets is at the station once", async () => {
  const before = stationHeld();
  assert.equal(before["TAB-REG"] ?? 0, 0, "nothing reached the station while the link was off");
  await hub.link(true);
  const status = async () => (await fetch(`${hub.url}/hub/api/status`)).json();
  let hubView;
  await reg.browser.waitUntil(async () => {
    hubView = await status();
    return hubView.tablets.length === 2 && hubView.tablets.every((t) => t.registered && t.waiting === 0);
  }, { timeout: 30000, interval: 500, timeoutMsg: "the hub never relayed everything" });
  const held = stationHeld();
  for (const t of hubView.tablets) {
    assert.equal(held[t.name], t.held_seq, `${t.name}: the station holds what the hub holds`);
  }
  // Relaying again changes nothing: (device, seq) is the key end to end.
  await hub.link(false);
  await hub.link(true);
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(stationHeld(), held);
});
