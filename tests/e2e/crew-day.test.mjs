// The crew's day in the real app window: sign-in, drive, check-in, screening (with a
// deferred donor), collection with label scan-verification, queue and summary.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { DEMO_PIN, KEY, answerNothingToDeclare, click, demoStore, fill, launchApp, scanInto, shot, signIn, text, residentId, signConsent, resumeDrive, signOut } from "./harness.mjs";

const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
const PHLEBOTOMIST = "采血护士 张静";
const ACCEPTED = { id: residentId("330106", "19900315", "131"), name: "陈晓东" }; // male
const DEFERRED = { id: residentId("330106", "19920707", "242"), name: "林小红" }; // female

let app;
let browser;

before(async () => {
  const { store } = demoStore(2);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
  browser = app.browser;
});

afterEach(async (t) => {
  // Keep what the window showed at the end of every step (a failed one above all).
  if (t && browser) await shot(browser, `end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => { await app?.close(); });

test("a wrong PIN is refused with the attempts left, the right one signs in", async () => {
  await signIn(browser, NURSE, "9999");
  const err = await text(browser, "#sign-in-error");
  assert.match(err, /PIN 码错误/);
  assert.match(err, /4/);
  await shot(browser, "01-wrong-pin");
  await fill(browser, "#pin", DEMO_PIN);
  await browser.keys(["Enter"]);
  assert.match(await text(browser, "[data-testid=signed-in-as]"), /李敏/);
  await shot(browser, "02-drive");
  await resumeDrive(browser);
});

test("check-in: a mistyped ID is caught as typed; new donors are registered and queued", async () => {
  const mistyped = ACCEPTED.id.slice(0, 17) + (ACCEPTED.id[17] === "1" ? "2" : "1");
  await fill(browser, "#id-number", mistyped);
  assert.match(await text(browser, "#id-error"), /expected/);
  await shot(browser, "03-id-mistyped");

  for (const donor of [ACCEPTED, DEFERRED]) {
    await browser.$("#id-number").clearValue();
    await scanInto(browser, "#id-number", donor.id);
    assert.match(await text(browser, "#id-ok"), /出生日期/);
    await fill(browser, "#reg-name", donor.name);
    await fill(browser, "#reg-phone", "13800001111");
    await click(browser, "#register");
    assert.equal(await text(browser, "#next-eligible"), "今天可以献血");
    assert.match(await text(browser, "#cumulative"), /^0 mL$/);
    await click(browser, "#check-in");
    assert.match(await text(browser, "#checkin-message"), new RegExp(donor.name));
  }
  await shot(browser, "04-checked-in");
  await click(browser, "#tab-queue");
  const row = await browser.$(`tr[data-donor="${ACCEPTED.name}"]`);
  await row.waitForDisplayed({ timeout: 10000 });
  assert.equal(await row.getAttribute("data-status"), "waiting");
  // A registration nurse has no screening or collection tab.
  assert.equal(await browser.$("#tab-screening").isExisting(), false);
  assert.equal(await browser.$("#tab-collection").isExisting(), false);
  await signOut(browser);
});

async function fillVitals(v) {
  for (const [id, value] of Object.entries(v)) {
    const el = await browser.$(`#${id}`);
    await el.waitForDisplayed({ timeout: 10000 });
    await el.clearValue();
    await el.setValue(value);
  }
}

test("screening: live eligibility explains failing rules; accept and defer are recorded", async () => {
  await signIn(browser, PHYSICIAN);
  await resumeDrive(browser);
  await click(browser, "#tab-screening");
  const select = await browser.$("#screen-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await select.selectByVisibleText(`${ACCEPTED.name} · 1990-03-15`);
  await answerNothingToDeclare(browser);
  // Nothing is pre-set: the volume and the HBsAg result are chosen for each donor.
  assert.equal(await (await browser.$("#hbsag")).getValue(), "");
  await browser.$("#volume").selectByAttribute("value", "400");
  await browser.$("#hbsag").selectByAttribute("value", "negative");
  await fillVitals({ weight: "68", systolic: "150", diastolic: "80", pulse: "72", temperature: "36.6", hemoglobin: "140", alt: "20" });
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "暂不符合献血条件", { timeout: 10000 });
  const reason = await browser.$("li[data-code=SYSTOLIC_HIGH]");
  assert.match(await reason.getText(), /150/);
  assert.equal(await browser.$("#accept").isExisting(), false);
  // Blood pressure is a hard stop: no waiver, the screen says why.
  assert.equal(await browser.$("#waive").isExisting(), false);
  assert.match(await text(browser, "#no-override"), /SYSTOLIC_HIGH/);
  await shot(browser, "05-not-eligible");

  await fillVitals({ systolic: "126" });
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "符合献血条件", { timeout: 10000 });
  // No acceptance before the donor signs the consent.
  assert.equal(await (await browser.$("#accept")).isEnabled(), false);
  await signConsent(browser);
  await click(browser, "#accept");
  assert.match(await text(browser, "#screening-saved"), /同意献血/);

  await browser.waitUntil(async () => {
    const options = await browser.$$("#screen-donor option");
    for (const o of options) if ((await o.getText()).startsWith(DEFERRED.name)) return true;
    return false;
  }, { timeout: 10000, timeoutMsg: "the deferred donor never appeared among those waiting" });
  await browser.$("#screen-donor").selectByVisibleText(`${DEFERRED.name} · 1992-07-07`);
  // The previous donor's answers and results are not carried over.
  await browser.$("#questionnaire .q-row").waitForDisplayed({ timeout: 10000 });
  assert.equal(await browser.$("#questionnaire .q-row.answered").isExisting(), false);
  assert.equal(await (await browser.$("#hbsag")).getValue(), "");
  await answerNothingToDeclare(browser);
  await browser.$("#volume").selectByAttribute("value", "400");
  await browser.$("#hbsag").selectByAttribute("value", "negative");
  await fillVitals({ weight: "52", systolic: "112", diastolic: "72", pulse: "76", temperature: "36.5", hemoglobin: "108", alt: "18" });
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "暂不符合献血条件", { timeout: 10000 });
  assert.match(await (await browser.$("li[data-code=HEMOGLOBIN_LOW]")).getText(), /108/);
  // The core pre-selects the deferral that answers the low haemoglobin.
  await browser.waitUntil(async () => (await (await browser.$("#defer-code")).getValue()) === "EXAMINATION_NOT_PASSED", { timeout: 10000 });
  await click(browser, "#defer");
  assert.match(await text(browser, "#screening-saved"), /暂缓献血/);
  await click(browser, "#tab-queue");
  const row = await browser.$(`tr[data-donor="${DEFERRED.name}"]`);
  await browser.waitUntil(async () => (await row.getAttribute("data-status")) === "deferred", { timeout: 10000 });
  await shot(browser, "06-queue-after-screening");
  await signOut(browser);
});

test("collection: DIN from the range, a wrong label is refused, every label scanned before finishing", async () => {
  await signIn(browser, PHLEBOTOMIST);
  await resumeDrive(browser);
  await click(browser, "#tab-collection");
  const select = await browser.$("#collect-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await select.selectByIndex(1);
  await fill(browser, "#bag-lot", "LOT-2611");
  await click(browser, "#start-collection");
  const din = await text(browser, "#din");
  assert.match(din, /Z9999 \d\d \d{6}/);
  assert.ok(await browser.$("#finish").isExisting());
  assert.equal(await browser.$("#finish").isEnabled(), false, "finish must wait for the labels");

  // Another donation's label (the demo's first DIN) is refused loudly and recorded.
  await scanInto(browser, "#scan", "=Z99992600000001");
  assert.match(await text(browser, "#collection-error"), /SCAN REFUSED|扫描被拒绝/);
  await shot(browser, "07-wrong-label");

  // The label as printed is previewed from the record.
  await browser.$("#label-preview").waitForDisplayed({ timeout: 10000 });
  assert.ok((await browser.$("#label-preview").getAttribute("src")).startsWith("data:image/svg+xml"));
  const pieces = await browser.$$("#pieces li");
  const barcodes = [];
  // What a hand scanner sends: the AIM symbology identifier (Code 128), then the data.
  for (const li of pieces) barcodes.push(`]C0${await li.getAttribute("data-barcode")}`);
  assert.ok(barcodes.length >= 4, `a double bag set has bags, tubes and a record sheet: ${barcodes}`);
  // Typing the DIN shown on the screen, even five times and with its check character,
  // verifies nothing; neither do its bare 13 characters.
  const shown = (await text(browser, "#din")).match(/([A-Z0-9]{5}) (\d\d) (\d{6})\s*(\S)/);
  assert.ok(shown, await text(browser, "#din"));
  for (let i = 0; i < 5; i++) {
    await scanInto(browser, "#scan", `${shown[1]} ${shown[2]} ${shown[3]} ${shown[4]}`);
    // The refusal in the screen's language (zh-CN), from the catalogue (scan.typed_not_scanned).
    assert.match(await text(browser, "#collection-error"), /扫描被拒绝: 手工输入不能核对标签/);
  }
  await scanInto(browser, "#scan", `${shown[1]}${shown[2]}${shown[3]}`);
  assert.match(await text(browser, "#collection-error"), /缺少校验字符/);
  assert.equal((await browser.$$("#pieces li.verified")).length, 0, "typing verified a label");
  await shot(browser, "07b-typed-din-verifies-nothing");
  // The first label is scanned while the cursor sits in the volume field: the scan
  // must still land in the scan field, not in the volume.
  await click(browser, "#collected");
  for (const ch of barcodes[0]) await browser.keys(ch);
  await browser.keys("Enter");
  await browser.waitUntil(async () => (await browser.$$("#pieces li.verified")).length === 1, {
    timeout: 10000, timeoutMsg: "a scan typed while the volume field had focus was not taken as a scan",
  });
  assert.equal(await browser.$("#collected").getValue(), "");
  for (const code of barcodes.slice(1, -1)) await scanInto(browser, "#scan", code);
  await browser.waitUntil(async () => (await browser.$$("#pieces li.verified")).length === barcodes.length - 1, { timeout: 10000 });
  // The record sheet's label "cannot be scanned": manual entry, with the check
  // character, a reason and the registration nurse's PIN as second crew member.
  await click(browser, `#manual-${barcodes.length - 1}`);
  await fill(browser, "#manual-din", `${shown[1]} ${shown[2]} ${shown[3]} ${shown[4]}`);
  await fill(browser, "#manual-reason", "记录单标签被水浸湿");
  await (await browser.$("#manual-witness")).selectByVisibleText(NURSE);
  await fill(browser, "#manual-pin", DEMO_PIN);
  await click(browser, "#manual-submit");
  await browser.waitUntil(async () => (await browser.$$("#pieces li.verified")).length === barcodes.length, { timeout: 10000 });
  assert.equal((await browser.$$("#pieces li.manual")).length, 1, "the typed piece is shown as manual");
  await shot(browser, "07c-manual-entry");

  await fill(browser, "#gross", "520");
  await fill(browser, "#tare", "100");
  await click(browser, "#from-scale");
  await browser.waitUntil(async () => (await browser.$("#collected").getValue()) === "400", { timeout: 10000 });
  await click(browser, "#finish");
  assert.match(await text(browser, "#collection-message"), /完成/);
  await shot(browser, "08-collected");
});

test("summary: the day's donors, deferrals and units, in English on request", async () => {
  await click(browser, "#tab-summary");
  assert.equal(await text(browser, "#sum-checked-in"), "4");
  const wb = await browser.$("tr[data-procedure=whole_blood]");
  await wb.waitForDisplayed({ timeout: 10000 });
  assert.match(await wb.getText(), /3/);
  assert.equal(await (await browser.$$("#sum-deferrals tr")).length, 1);
  // The wrong label scanned at the chair is accounted for at the end of the drive.
  // So are the five typed DINs and the bare 13 characters, and the manual entry.
  assert.equal(await text(browser, "#labels-refused"), "7");
  assert.match(await text(browser, "#labels-manual"), /record 1 \(手工: 记录单标签被水浸湿\)/);
  // No bag of this drive is on a signed manifest yet: the summary says so, and what to do.
  const notDispatched = (await text(browser, "#sum-not-dispatched")).split(", ").length;
  assert.match(await text(browser, "#not-dispatched-warning"), new RegExp(`${notDispatched} 袋血.*运输`));
  await click(browser, "#lang");
  await browser.waitUntil(async () => (await text(browser, "#tab-summary")) === "Summary", { timeout: 5000 });
  await click(browser, "#export");
  assert.match(await text(browser, "#exported"), /drive-.*\.json/);
  await shot(browser, "09-summary-en");
  await click(browser, "#lang");
  // Back in zh-CN before the next test file opens the app (the choice is remembered).
  await browser.waitUntil(async () => (await text(browser, "#tab-summary")) === "总结", {
    timeout: 5000,
    timeoutMsg: "the language did not switch back to zh-CN",
  });
});
