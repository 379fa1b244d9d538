// The driver's cold chain in the real app window: open a red-cell and a platelet box,
// a bag scanned into the wrong class of box is refused, bags are packed, an out-of-range
// temperature is typed (the excursion is shown, and the box's bags are quarantined on the
// manifest), a logger CSV is imported, a wrong PIN then the right one at dispatch, and
// the signed manifest is read-only with its QR.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEMO_PIN, KEY, click, demoStore, fill, launchApp, scanInto, shot, signIn, text } from "./harness.mjs";

const DRIVER = "司机 刘洋";

let app;
let browser;

before(async () => {
  // Four demo bags: whole blood, triple sets drawn in 6 minutes, labelled and released.
  const { store } = demoStore(4);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `transport-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => { await app?.close(); });

/** The DINs of released bags waiting to be packed, as the screen lists them. */
async function waitingDins() {
  const items = await browser.$$("#unpacked li[data-din]");
  const dins = [];
  for (const li of items) dins.push(await li.getAttribute("data-din"));
  return dins;
}

/** What the scanner sends for a primary bag label: AIM identifier `]C0`, `=` DIN, flags 01. */
const bagLabel = (din) => `]C0=${din}01`;

/** The DIN as a person types it from the label: with its ISO 7064 MOD 37-2 check character. */
function typedDin(din) {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
  const sum = [...din].reduce((t, c) => ((t + alphabet.indexOf(c)) * 2) % 37, 0);
  return `${din} ${alphabet[(38 - sum) % 37]}`;
}

async function openBox(code, klass) {
  await fill(browser, "#box-code", code);
  await (await browser.$("#box-class")).selectByAttribute("value", klass);
  await click(browser, "#open-box");
  await browser.$(`.box[data-box="${code}"]`).waitForDisplayed({ timeout: 10000 });
}

async function bagCount(code) {
  return Number(await text(browser, `.box[data-box="${code}"] .bag-count`));
}

let dins = [];

test("the driver opens a red-cell box and a platelet box; a wrong-class bag is refused", async () => {
  await signIn(browser, DRIVER);
  await click(browser, "button[data-resume]");
  await browser.$("[data-testid=current-drive]").waitForDisplayed({ timeout: 10000 });
  await click(browser, "#tab-transport");
  await browser.$("#unpacked").waitForDisplayed({ timeout: 10000 });
  dins = await waitingDins();
  assert.equal(dins.length, 4, `four released bags wait to be packed: ${dins}`);

  // The box classes come from the core with the rules table's bands, apheresis plasma
  // among them.
  const options = await browser.$$("#box-class option");
  const values = [];
  for (const o of options) values.push(await o.getAttribute("value"));
  assert.deepEqual(values, ["red_cell_whole_blood", "platelet_whole_blood", "apheresis_platelets", "apheresis_plasma"]);
  assert.match(await options[0].getText(), /2–10 °C/);
  await openBox("BOX-R1", "red_cell_whole_blood");
  await openBox("BOX-A1", "apheresis_platelets");
  // The box just opened is the current one: whole blood into an apheresis platelet box.
  await scanInto(browser, "#pack-scan", bagLabel(dins[0]));
  const refusal = await text(browser, "#transport-error");
  assert.match(refusal, /不能装入此箱|Cannot go in this box/);
  assert.ok(refusal.includes(dins[0]), `the refusal names the bag: ${refusal}`);
  assert.match(refusal, /单采血小板|apheresis platelet/);
  assert.equal(await bagCount("BOX-A1"), 0);
  await shot(browser, "transport-01-wrong-class");
});

test("bags are packed by scanning, switching box by scanning its code", async () => {
  // Scanning a box's own code makes it the current box.
  await scanInto(browser, "#pack-scan", "BOX-R1");
  await browser.waitUntil(async () => (await text(browser, "#transport-message")).includes("BOX-R1"), { timeout: 10000 });
  for (const din of dins.slice(0, 3)) {
    await scanInto(browser, "#pack-scan", bagLabel(din));
    await browser.$(`.box[data-box="BOX-R1"] li[data-din="${din}"]`).waitForDisplayed({ timeout: 10000 });
  }
  assert.equal(await bagCount("BOX-R1"), 3);
  // The same bag again: already packed, said so, nothing changes.
  await scanInto(browser, "#pack-scan", bagLabel(dins[0]));
  assert.match(await text(browser, "#transport-error"), /已装箱|already packed/);
  assert.equal(await bagCount("BOX-R1"), 3);

  // The fourth bag (a quick triple-set draw) may make platelets: its own box.
  await openBox("BOX-P1", "platelet_whole_blood");
  // Its label will not scan. The DIN typed into the scan field (with its check character,
  // or the label's data without the scanner's AIM identifier) packs nothing.
  await scanInto(browser, "#pack-scan", typedDin(dins[3]));
  assert.match(await text(browser, "#transport-error"), /手工输入不能核对标签|TYPED, NOT SCANNED/);
  await scanInto(browser, "#pack-scan", bagLabel(dins[3]).slice(3));
  assert.match(await text(browser, "#transport-error"), /非扫描输入|NOT A SCAN/);
  assert.equal(await bagCount("BOX-P1"), 0);
  // Manual entry: the DIN with its check character, a reason, and a second crew
  // member's PIN; without the PIN it is refused.
  await click(browser, "#pack-manual-open");
  await fill(browser, "#pack-manual-din", typedDin(dins[3]));
  await fill(browser, "#pack-manual-reason", "标签受潮无法扫描");
  await (await browser.$("#pack-manual-witness")).selectByVisibleText("采血护士 张静");
  await click(browser, "#pack-manual-submit");
  assert.match(await text(browser, "#transport-error"), /手工录入被拒绝|Manual entry refused/);
  assert.equal(await bagCount("BOX-P1"), 0);
  await fill(browser, "#pack-manual-pin", DEMO_PIN);
  await click(browser, "#pack-manual-submit");
  await browser.$(`.box[data-box="BOX-P1"] li[data-din="${dins[3]}"][data-manual="true"]`).waitForDisplayed({ timeout: 10000 });
  await shot(browser, "transport-02a-packed-by-manual-entry");
  await browser.$("#no-unpacked").waitForDisplayed({ timeout: 10000 });
  await shot(browser, "transport-02-packed");
});

test("an out-of-range temperature shows an excursion; a logger CSV is imported", async () => {
  // The driver scans the box code to make it current, as for packing.
  await scanInto(browser, "#pack-scan", "BOX-R1");
  await fill(browser, "#reading-celsius", "5.5");
  await click(browser, "#add-reading");
  await browser.$('.box[data-box="BOX-R1"] li.reading').waitForDisplayed({ timeout: 10000 });
  assert.equal(await browser.$('.box[data-box="BOX-R1"] .excursion').isExisting(), false);
  await fill(browser, "#reading-celsius", "12.5");
  await click(browser, "#add-reading");
  const excursion = await text(browser, '.box[data-box="BOX-R1"] .excursion');
  assert.match(excursion, /温度超限|excursion/i);
  assert.match(excursion, /12\.5/);
  assert.ok(await browser.$('.box[data-box="BOX-R1"] li.reading.out').isExisting(), "the reading is highlighted");
  await shot(browser, "transport-03-excursion");

  // The platelet box's logger file: two readings in range, one repeated.
  await scanInto(browser, "#pack-scan", "BOX-P1");
  const dir = mkdtempSync(path.join(tmpdir(), "lifebridge-logger-"));
  const file = path.join(dir, "logger-P1.csv");
  const at = (min) => new Date(Date.now() - min * 60000).toISOString().replace(/\.\d+Z$/, "Z");
  writeFileSync(file, `Logger,Time,Temperature (°C)\nL7,${at(40)},22.1\nL7,${at(30)},22.4\nL7,${at(30)},22.4\n`);
  await (await browser.$("#logger-file")).addValue(file);
  await browser.waitUntil(async () => /2/.test(await text(browser, "#transport-message")), {
    timeout: 10000, timeoutMsg: "the logger file was not imported",
  });
  assert.match(await text(browser, "#transport-message"), /2.*1|imported/);
  assert.equal((await browser.$$('.box[data-box="BOX-P1"] li.reading')).length, 2);
  assert.equal(await browser.$('.box[data-box="BOX-P1"] .excursion').isExisting(), false);
  await shot(browser, "transport-04-logger");
});

test("dispatch: a wrong PIN is refused, the right one signs; the manifest is read-only with its QR", async () => {
  const counts = await text(browser, "#preview-counts");
  assert.match(counts, /4/);
  // BOX-R1 left its range: before signing, its three bags are listed as quarantined,
  // each with the core's words for why.
  const held = await browser.$$("#preview-units li.unit");
  assert.equal(held.length, 3);
  for (const li of held) assert.equal(await li.getAttribute("data-status"), "quarantined");
  assert.match(await held[0].getText(), /BOX-R1/);
  await fill(browser, "#dispatch-pin", "0000");
  await click(browser, "#dispatch");
  assert.match(await text(browser, "#transport-error"), /PIN 码错误|Wrong PIN/);
  assert.equal(await browser.$(".manifest").isExisting(), false, "a wrong PIN signs nothing");
  await shot(browser, "transport-05-wrong-pin");

  await fill(browser, "#dispatch-pin", DEMO_PIN);
  await click(browser, "#dispatch");
  await browser.$(".manifest").waitForDisplayed({ timeout: 10000 });
  assert.match(await text(browser, "#transport-message"), /已发运|Dispatched/);
  assert.match(await text(browser, ".manifest .manifest-driver"), /刘洋/);
  // The signed manifest says the same, bag by bag.
  assert.equal((await browser.$$('.manifest .manifest-box[data-box="BOX-R1"] li[data-status="quarantined"]')).length, 3);
  assert.equal((await browser.$$('.manifest .manifest-box[data-box="BOX-P1"] li[data-status="suitable"]')).length, 1);
  // The bag packed by manual entry is marked so on the signed manifest.
  assert.equal(await browser.$(`.manifest .manifest-box[data-box="BOX-P1"] li[data-din="${dins[3]}"] .manual-mark`).isExisting(), true);
  const qr = await browser.$("#manifest-qr-1");
  await qr.waitForDisplayed({ timeout: 10000 });
  assert.ok((await qr.getAttribute("src")).startsWith("data:image/svg+xml"));
  assert.match(await qr.getAttribute("data-text"), /\S{20,}/);
  // Dispatched boxes are read-only: no unpack buttons, and their bags cannot be packed again.
  for (const code of ["BOX-R1", "BOX-P1"]) {
    assert.equal(await browser.$(`.box[data-box="${code}"]`).getAttribute("data-state"), "dispatched");
    assert.equal((await browser.$$(`.box[data-box="${code}"] button.unpack`)).length, 0);
  }
  assert.equal(await browser.$("#dispatch-card").isExisting(), false, "nothing left to sign");
  // The empty apheresis box stayed open; a dispatched bag scanned into it is refused.
  await scanInto(browser, "#pack-scan", bagLabel(dins[1]));
  assert.match(await text(browser, "#transport-error"), /已装箱|already packed/);
  await shot(browser, "transport-06-manifest");

  await click(browser, ".manifest .save-pdf");
  assert.match(await text(browser, "#pdf-path"), /manifest-.*\.pdf/);
  await shot(browser, "transport-07-pdf-saved");
});
