// Hard stops in the real window: an HBsAg-positive donor gets no waiver button, only the
// matching deferral (with a slip to take home); the next donor's form starts empty; a
// donor who gave blood today is shown in red at check-in and needs a confirmation.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { KEY, click, demoStore, fill, launchApp, scanInto, shot, signIn, text, residentId, resumeDrive, signOut } from "./harness.mjs";


const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
const POSITIVE = { id: residentId("330106", "19880512", "153"), name: "赵建国", birth: "1988-05-12" };
const NEXT = { id: residentId("330106", "19910203", "264"), name: "钱丽华", birth: "1991-02-03" };
// The demo seeder's first donor gave 400 mL on today's drive.
const GAVE_TODAY = "王伟";

let app;
let browser;

before(async () => {
  const { store } = demoStore(2);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `screening-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => { await app?.close(); });

async function fillVitals(v) {
  for (const [id, value] of Object.entries(v)) {
    const el = await browser.$(`#${id}`);
    await el.waitForDisplayed({ timeout: 10000 });
    await el.clearValue();
    await el.setValue(value);
  }
}

test("check-in: a donor who gave 400 mL today is red with the date and needs a confirmation", async () => {
  await signIn(browser, NURSE);
  await resumeDrive(browser);
  for (const donor of [POSITIVE, NEXT]) {
    await browser.$("#id-number").clearValue();
    await scanInto(browser, "#id-number", donor.id);
    assert.match(await text(browser, "#id-ok"), /出生日期/);
    await fill(browser, "#reg-name", donor.name);
    await click(browser, "#register");
    assert.equal(await text(browser, "#next-eligible"), "今天可以献血");
    await click(browser, "#check-in");
    assert.match(await text(browser, "#checkin-message"), new RegExp(donor.name));
  }

  await browser.$("#id-number").clearValue();
  await fill(browser, "#id-number", GAVE_TODAY);
  await click(browser, "#find");
  const warning = await text(browser, "#checkin-warning");
  assert.match(warning, /今天不能献全血/);
  const date = await (await browser.$("#checkin-warning")).getAttribute("data-next-eligible");
  assert.match(date, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(warning.includes(date), `the warning shows the date ${date}: ${warning}`);
  assert.ok(await browser.$("#checkin-warning li[data-code=INTERVAL_NOT_MET]").isExisting());
  assert.equal(await (await browser.$("#check-in")).isEnabled(), false, "no check-in without a reason");
  await shot(browser, "screening-01-checkin-red");
  await fill(browser, "#checkin-confirm-reason", "来领取献血证");
  await click(browser, "#check-in");
  assert.match(await text(browser, "#checkin-message"), new RegExp(GAVE_TODAY));
  await signOut(browser);
});

test("screening: an HBsAg-positive donor has no waiver, only the matching deferral and a slip", async () => {
  await signIn(browser, PHYSICIAN);
  await resumeDrive(browser);
  await click(browser, "#tab-screening");
  const select = await browser.$("#screen-donor");
  await select.waitForDisplayed({ timeout: 10000 });
  await select.selectByVisibleText(`${POSITIVE.name} · ${POSITIVE.birth}`);
  // Nothing is pre-set: HBsAg waits for an answer.
  assert.equal(await (await browser.$("#hbsag")).getValue(), "");
  await click(browser, "#questionnaire");
  await browser.$("#volume").selectByAttribute("value", "400");
  await fillVitals({ weight: "70", systolic: "120", diastolic: "80", pulse: "72", temperature: "36.6", hemoglobin: "145", alt: "20" });
  await browser.$("#hbsag").selectByAttribute("value", "positive");
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "暂不符合献血条件", { timeout: 10000 });
  assert.ok(await browser.$("li[data-code=HBSAG_POSITIVE]").isExisting());
  assert.equal(await (await browser.$("li[data-code=HBSAG_POSITIVE]")).getAttribute("data-waivable"), "false");
  assert.match(await text(browser, "#no-override"), /HBSAG_POSITIVE/);
  assert.equal(await browser.$("#waive").isExisting(), false, "no waiver button for a hard stop");
  assert.equal(await browser.$("#accept").isExisting(), false);
  // Only the matching deferral is offered, and it is pre-selected.
  await browser.waitUntil(async () => (await (await browser.$("#defer-code")).getValue()) === "HBSAG_POSITIVE", { timeout: 10000 });
  const offered = [];
  for (const o of await browser.$$("#defer-code option")) {
    const v = await o.getAttribute("value");
    if (v) offered.push(v);
  }
  assert.deepEqual(offered, ["HBSAG_POSITIVE"]);
  await shot(browser, "screening-02-hbsag-positive");
  await click(browser, "#defer");
  assert.match(await text(browser, "#screening-saved"), /暂缓献血/);
  await click(browser, "#deferral-slip");
  const slip = await text(browser, "#slip-path");
  const file = slip.split(": ").pop().trim();
  assert.match(file, /\.pdf$/);
  assert.ok(existsSync(file), `slip written at ${file}`);
});

test("screening: the next donor's form starts empty", async () => {
  const select = await browser.$("#screen-donor");
  await browser.waitUntil(async () => {
    for (const o of await browser.$$("#screen-donor option")) if ((await o.getText()).startsWith(NEXT.name)) return true;
    return false;
  }, { timeout: 10000, timeoutMsg: "the next donor never appeared among those waiting" });
  await select.selectByVisibleText(`${NEXT.name} · ${NEXT.birth}`);
  await browser.$("#hbsag").waitForDisplayed({ timeout: 10000 });
  assert.equal(await (await browser.$("#hbsag")).getValue(), "", "HBsAg is not carried over");
  assert.equal(await (await browser.$("#questionnaire")).isSelected(), false, "the questionnaire tick is not carried over");
  for (const id of ["weight", "systolic", "hemoglobin", "alt"]) {
    assert.equal(await (await browser.$(`#${id}`)).getValue(), "", `#${id} starts empty`);
  }
  assert.equal(await (await browser.$("#volume")).getValue(), "");
  assert.equal(await browser.$("#verdict").isExisting(), false, "no verdict before anything is measured");
  assert.equal(await browser.$("#defer-code").isExisting(), false, "no deferral reason carried over");
  await shot(browser, "screening-03-next-donor-empty");
});
