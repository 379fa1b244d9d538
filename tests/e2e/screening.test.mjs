// Hard stops in the real window: an HBsAg-positive donor gets no waiver button, only the
// matching deferral (with a slip to take home); the next donor's form starts empty; a
// donor who gave blood today is shown in red at check-in and needs a confirmation.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { KEY, answerNothingToDeclare, answerQuestion, click, demoStore, fill, launchApp, scanInto, shot, signConsent, signIn, text, residentId, resumeDrive, signOut } from "./harness.mjs";


const NURSE = "登记护士 李敏";
const PHYSICIAN = "体检医生 王强";
const POSITIVE = { id: residentId("330106", "19880512", "153"), name: "赵建国", birth: "1988-05-12" };
const NEXT = { id: residentId("330106", "19910203", "264"), name: "钱丽华", birth: "1991-02-03" };
// A man with a tattoo three months old, and a woman who does not feel well today (odd
// and even sequence numbers: the resident ID gives the sex).
const TATTOO = { id: residentId("330106", "19850920", "317"), name: "孙志强", birth: "1985-09-20" };
const UNWELL = { id: residentId("330106", "19930411", "428"), name: "周晓燕", birth: "1993-04-11" };

/** Today in China Standard Time, the drives' day. */
const chinaToday = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
/** `iso` moved by `n` calendar months, the day kept or clamped to the month's last (as the core counts). */
function addMonths(iso, n) {
  const [y, m, d] = iso.split("-").map(Number);
  const total = y * 12 + (m - 1) + n;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${year}-${String(month + 1).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}
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
  for (const donor of [POSITIVE, NEXT, TATTOO, UNWELL]) {
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
  await answerNothingToDeclare(browser);
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
  await browser.$("#questionnaire .q-row").waitForDisplayed({ timeout: 10000 });
  assert.equal(await browser.$("#questionnaire .q-row.answered").isExisting(), false, "no answer is carried over");
  for (const id of ["weight", "systolic", "hemoglobin", "alt"]) {
    assert.equal(await (await browser.$(`#${id}`)).getValue(), "", `#${id} starts empty`);
  }
  assert.equal(await (await browser.$("#volume")).getValue(), "");
  assert.equal(await browser.$("#verdict").isExisting(), false, "no verdict before anything is measured");
  assert.equal(await browser.$("#defer-code").isExisting(), false, "no deferral reason carried over");
  // A woman is asked the questions for women.
  assert.ok(await browser.$('#questionnaire .q-row[data-question="pregnant"]').isExisting(), "a woman is asked about pregnancy");
  await shot(browser, "screening-03-next-donor-empty");
});

async function chooseDonor(donor) {
  const select = await browser.$("#screen-donor");
  await browser.waitUntil(async () => {
    for (const o of await browser.$$("#screen-donor option")) if ((await o.getText()).startsWith(donor.name)) return true;
    return false;
  }, { timeout: 10000, timeoutMsg: `${donor.name} never appeared among those waiting` });
  await select.selectByVisibleText(`${donor.name} · ${donor.birth}`);
  await browser.$("#questionnaire .q-row").waitForDisplayed({ timeout: 10000 });
}

async function measuredWell() {
  await browser.$("#volume").selectByAttribute("value", "400");
  await fillVitals({ weight: "66", systolic: "118", diastolic: "76", pulse: "70", temperature: "36.5", hemoglobin: "140", alt: "18" });
  await browser.$("#hbsag").selectByAttribute("value", "negative");
}

test("questionnaire: a man answering a tattoo 3 months ago is deferred until a year after it", async () => {
  await chooseDonor(TATTOO);
  // A man is not asked the questions for women.
  for (const id of ["pregnant", "menstruating", "childbirth"]) {
    assert.equal(await browser.$(`#questionnaire .q-row[data-question="${id}"]`).isExisting(), false, `a man is not asked ${id}`);
  }
  // The donor reads the questionnaire in English; the physician's screen stays in Chinese.
  const tattooText = '#questionnaire .q-row[data-question="tattoo"] .q-text';
  assert.match(await text(browser, tattooText), /文身/);
  await click(browser, "#q-lang-en");
  await browser.waitUntil(async () => /tattoo/i.test(await text(browser, tattooText)), { timeout: 10000, timeoutMsg: "the questionnaire did not switch to English" });
  assert.equal(await text(browser, '#questionnaire .q-row[data-question="tattoo"] button[data-answer="yes"]'), "Yes");
  assert.equal(await text(browser, "h1"), "健康检查");
  // "When?" is asked only once the tattoo is declared.
  assert.equal(await browser.$('#questionnaire .q-row[data-question="tattoo_when"]').isExisting(), false);
  await answerQuestion(browser, "tattoo", "yes");
  await fill(browser, '#questionnaire .q-row[data-question="tattoo_when"] input[data-answer="ago"]', "3");
  assert.equal(await (await browser.$('#questionnaire .q-row[data-question="tattoo_when"] select[data-answer="ago-unit"]')).getValue(), "months");
  await answerNothingToDeclare(browser);
  await measuredWell();
  const until = addMonths(addMonths(chinaToday(), -3), 12);
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "暂不符合献血条件", { timeout: 10000 });
  const reason = await browser.$("li[data-code=QUESTIONNAIRE_DEFERRAL]");
  assert.ok(await reason.isExisting(), "the tattoo is a reason like the others");
  assert.ok((await reason.getText()).includes(until), `the reason names ${until}: ${await reason.getText()}`);
  assert.equal(await text(browser, "#eligible-from"), until);
  assert.equal(await browser.$("#accept").isExisting(), false);
  await browser.waitUntil(async () => (await (await browser.$("#defer-code")).getValue()) === "TATTOO", { timeout: 10000, timeoutMsg: "TATTOO was not pre-selected" });
  const chosen = await browser.$('#defer-code option[value="TATTOO"]');
  assert.ok((await chosen.getText()).includes(until), `the deferral offered ends ${until}: ${await chosen.getText()}`);
  await shot(browser, "screening-04-tattoo-deferred");
  await click(browser, "#defer");
  assert.match(await text(browser, "#screening-saved"), /暂缓献血/);
});

test("questionnaire: 'I do not feel well' needs the physician's finding before accepting", async () => {
  await chooseDonor(UNWELL);
  await answerQuestion(browser, "feel_well", "no");
  await answerNothingToDeclare(browser);
  await measuredWell();
  await browser.waitUntil(async () => (await text(browser, "#verdict")) === "符合献血条件", { timeout: 10000 });
  const item = await browser.$('#review [data-review="feel_well"]');
  await item.waitForDisplayed({ timeout: 10000 });
  assert.match(await item.getText(), /否/);
  assert.equal(await (await browser.$("#accept")).isEnabled(), false, "no acceptance before the finding is recorded");
  await fill(browser, "#finding-feel_well", "昨晚睡眠不足，休息 20 分钟后复测血压脉搏正常");
  await shot(browser, "screening-05-review-finding");
  await signConsent(browser);
  await click(browser, "#accept");
  assert.match(await text(browser, "#screening-saved"), /同意献血/);
  await signOut(browser);
});

test("questionnaire: the tattoo deferral is stored with the date the answer gives", async () => {
  await signIn(browser, NURSE);
  await resumeDrive(browser);
  await browser.$("#id-number").clearValue();
  await fill(browser, "#id-number", TATTOO.name);
  await click(browser, "#find");
  const until = addMonths(addMonths(chinaToday(), -3), 12);
  const warning = await browser.$("#checkin-warning");
  await warning.waitForDisplayed({ timeout: 10000 });
  assert.equal(await warning.getAttribute("data-next-eligible"), until);
  assert.ok((await warning.getText()).includes(until), await warning.getText());
  await shot(browser, "screening-06-tattoo-stored");
});
