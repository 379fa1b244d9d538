// Informed consent in the real window: without the donor's signature the physician
// cannot accept (the button waits, and the store refuses anyway, in the catalogue's
// words) and the chair has nobody to collect from; the donor signs on the pad with a
// pointer drag and the donation goes ahead; a donor who cannot sign consents before a
// crew witness, who confirms with their PIN.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { KEY, answerNothingToDeclare, click, demoStore, dragOn, fill, launchApp, residentId, scanInto, shot, signConsent, signIn, text, resumeDrive, signOut } from "./harness.mjs";

const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
const PHLEBOTOMIST = "采血护士 张静";
const SIGNER = { id: residentId("330106", "19890412", "171"), name: "孙志强", birth: "1989-04-12" };
const WITNESSED = { id: residentId("330106", "19930825", "282"), name: "周美玲", birth: "1993-08-25" };

let app;
let browser;

before(async () => {
  const { store } = demoStore(2);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `consent-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => { await app?.close(); });

/** A donor who passes every rule, up to the decision. */
async function screenHealthy(donor) {
  const select = await browser.$("#screen-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await browser.waitUntil(async () => {
    for (const o of await browser.$$("#screen-donor option")) if ((await o.getText()).startsWith(donor.name)) return true;
    return false;
  }, { timeout: 10000, timeoutMsg: `${donor.name} never appeared among those waiting` });
  await select.selectByVisibleText(`${donor.name} · ${donor.birth}`);
  await answerNothingToDeclare(browser);
  await browser.$("#volume").selectByAttribute("value", "400");
  await browser.$("#hbsag").selectByAttribute("value", "negative");
  for (const [id, value] of Object.entries({ weight: "66", systolic: "118", diastolic: "76", pulse: "70", temperature: "36.5", hemoglobin: "142", alt: "19" })) {
    const el = await browser.$(`#${id}`);
    await el.clearValue();
    await el.setValue(value);
  }
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "符合献血条件", { timeout: 10000 });
}

test("check-in: two donors wait for the physician", async () => {
  await signIn(browser, NURSE);
  await resumeDrive(browser);
  for (const donor of [SIGNER, WITNESSED]) {
    await browser.$("#id-number").clearValue();
    await scanInto(browser, "#id-number", donor.id);
    await text(browser, "#id-ok");
    await fill(browser, "#reg-name", donor.name);
    await click(browser, "#register");
    await click(browser, "#check-in");
    assert.match(await text(browser, "#checkin-message"), new RegExp(donor.name));
  }
  await signOut(browser);
});

test("screening: no acceptance without the donor's signature, the store refuses it too", async () => {
  await signIn(browser, PHYSICIAN);
  await resumeDrive(browser);
  await click(browser, "#tab-screening");
  await screenHealthy(SIGNER);
  // The consent text is the core's, large, in the language the donor picks.
  assert.match(await text(browser, "#consent-text"), /如实填写了健康征询表/);
  await click(browser, "#consent-lang-en");
  assert.match(await text(browser, "#consent-text"), /of my own free will/);
  await click(browser, "#consent-lang-zh");
  assert.equal(await (await browser.$("#accept")).isEnabled(), false, "accept waits for the signature");
  assert.match(await text(browser, "#consent-needed"), /献血者尚未签署知情同意书/);
  await shot(browser, "consent-01-unsigned");

  // The store refuses an acceptance without consent whatever the screen does: the same
  // call the accept button makes, with the form as it stands (no consent).
  const donorId = await (await browser.$("#screen-donor")).getValue();
  const refusal = await browser.executeAsync((donorId, done) => {
    const invoke = window.__TAURI_INTERNALS__.invoke;
    (async () => {
      const [drive] = await invoke("todays_drives", {});
      const options = await invoke("screen_options", {});
      // The questionnaire answered "nothing to declare" by SIGNER (a man), so that the
      // consent is the only thing missing.
      const doc = await invoke("current_questionnaire", {});
      const answers = {};
      for (const section of doc.sections) {
        for (const q of section.questions) {
          if (q.when || (q.sex && q.sex !== "male") || q.type !== "yes_no") continue;
          answers[q.id] = !q.yes && !!q.no;
        }
      }
      const form = {
        donor_id: donorId, drive_id: drive.id, procedure: "whole_blood", planned_volume_ml: 400,
        questionnaire_version: options.questionnaire_version, answers, review_findings: {},
        vitals: { weight_kg: 66, systolic_mmhg: 118, diastolic_mmhg: 76, pulse_bpm: 70, temperature_c: 36.5 },
        tests: { hemoglobin_g_l: 142, alt_u_l: 19, hbsag: "negative", abo_rh: null, hematocrit: null, platelet_count_10e9_l: null },
        athlete: false, restrictions: [], consent: null, witness_pin: null, abo_rh_note: null,
      };
      await invoke("record_screening", { form, decision: { kind: "accept" }, waiverPin: null });
      return null;
    })().then(done, (e) => done(e));
  }, donorId);
  assert.ok(refusal, "the store refused the acceptance");
  assert.equal(refusal.field, "consent");
  assert.equal(refusal.text.code, "donor_consent.missing");

  // A dot is not a signature: "confirm" stays off.
  const pad = await browser.$("#signature-pad");
  await pad.scrollIntoView({ block: "center" });
  await dragOn(browser, pad, 3, 2);
  await browser.waitUntil(async () => Number(await pad.getAttribute("data-points")) > 0, { timeout: 5000 });
  assert.equal(await (await browser.$("#signature-done")).isEnabled(), false, "a dot does not sign");
  await click(browser, "#signature-clear");
  assert.equal(await pad.getAttribute("data-points"), "0");
});

test("collection cannot start for a donor who has not signed", async () => {
  await signOut(browser);
  await signIn(browser, PHLEBOTOMIST);
  await resumeDrive(browser);
  await click(browser, "#tab-collection");
  await browser.$("#collect-donor").waitForDisplayed({ timeout: 10000 });
  for (const o of await browser.$$("#collect-donor option")) {
    assert.ok(!(await o.getText()).startsWith(SIGNER.name), "an unsigned donor is not offered at the chair");
  }
  await signOut(browser);
});

test("signed with a finger, the donor is accepted and the donation goes ahead", async () => {
  await signIn(browser, PHYSICIAN);
  await resumeDrive(browser);
  await click(browser, "#tab-screening");
  await screenHealthy(SIGNER);
  // The bus's rapid group for a first-time donor: no flag, it goes on the label.
  await browser.$("#abo-rh").selectByAttribute("value", "O+");
  await signConsent(browser);
  assert.match(await text(browser, "#consent-status"), /献血者已签名/);
  assert.ok(await browser.$("#signature-image").isDisplayed(), "the signature is shown as drawn");
  assert.equal(await browser.$("#abo-rh-mismatch").isExisting(), false);
  await shot(browser, "consent-02-signed");
  await click(browser, "#accept");
  assert.match(await text(browser, "#screening-saved"), /同意献血/);
  await signOut(browser);

  await signIn(browser, PHLEBOTOMIST);
  await resumeDrive(browser);
  await click(browser, "#tab-collection");
  const select = await browser.$("#collect-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await browser.waitUntil(async () => {
    for (const o of await browser.$$("#collect-donor option")) if ((await o.getText()).startsWith(SIGNER.name)) return true;
    return false;
  }, { timeout: 10000, timeoutMsg: "the signed donor never reached the chair" });
  for (const o of await browser.$$("#collect-donor option")) {
    if ((await o.getText()).startsWith(SIGNER.name)) { await select.selectByAttribute("value", await o.getAttribute("value")); break; }
  }
  await fill(browser, "#bag-lot", "LOT-2612");
  await click(browser, "#start-collection");
  assert.match(await text(browser, "#din"), /Z9999 \d\d \d{6}/);
  await shot(browser, "consent-03-collecting");
  await signOut(browser);
});

test("a donor who cannot sign consents before a crew witness with the witness's PIN", async () => {
  await signIn(browser, PHYSICIAN);
  await resumeDrive(browser);
  await click(browser, "#tab-screening");
  await screenHealthy(WITNESSED);
  await click(browser, "#consent-cannot-sign");
  await browser.$("#consent-witness").selectByVisibleText(NURSE);
  await fill(browser, "#consent-reason", "右手腕骨折，无法签名");
  await fill(browser, "#consent-witness-pin", "000000");
  await click(browser, "#consent-witness-confirm");
  assert.match(await text(browser, "#consent-status"), /李敏/);
  await click(browser, "#accept");
  // A wrong PIN: the store's words, nothing recorded.
  assert.match(await text(browser, "#screening-error"), /见证人 PIN/);
  assert.equal(await browser.$("#screening-saved").isExisting(), false);
  await click(browser, "#consent-change");
  await browser.$("#consent-witness").selectByVisibleText(NURSE);
  await fill(browser, "#consent-reason", "右手腕骨折，无法签名");
  await fill(browser, "#consent-witness-pin", "123456");
  await click(browser, "#consent-witness-confirm");
  await shot(browser, "consent-04-witnessed");
  await click(browser, "#accept");
  assert.match(await text(browser, "#screening-saved"), /同意献血/);
});
