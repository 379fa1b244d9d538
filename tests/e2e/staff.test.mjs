// A Saturday at the donation house: a colleague joins the shift and there is no network.
// The supervisor (an account the station issued, on the tablet since its last sync) adds
// her account on the tablet; mistakes are refused and say why; she then signs in with her
// own PIN and sees exactly the screens of her roles.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { Station, click, fill, launchEnrolledApp, shot, signIn, text } from "./harness.mjs";

const SUPERVISOR = "护士长 孙艳";
const NEWCOMER = "临时护士 吴静";

let station;
let app;
let browser;
const syncState = async () => (await browser.$("#sync-status")).getAttribute("data-state");

before(async () => {
  station = await Station.create();
  const code = station.enroll("HOUSE-01");
  station.addStaff(SUPERVISOR, "supervisor", "753197");
  await station.start();
  app = await launchEnrolledApp(station, code, "HOUSE-01", 1);
  browser = app.browser;
});

afterEach(async (t) => {
  if (t && browser) await shot(browser, `staff-end-of-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => {
  await app?.close();
  await station?.stop();
});

test("the supervisor adds a colleague on the tablet; mistakes are refused with the reason", async () => {
  await browser.waitUntil(async () => (await syncState()) === "ok", {
    timeout: 60000, timeoutMsg: "the first sync never completed",
  });
  await browser.$(`button[data-staff="${SUPERVISOR}"]`).waitForDisplayed({ timeout: 15000 });
  // The rest of the day happens offline: the station goes away.
  await station.stop();
  await signIn(browser, SUPERVISOR, "753197");
  await click(browser, "button[data-resume]");
  await click(browser, "#tab-staff");
  await browser.$(`#staff-list tr[data-staff="${SUPERVISOR}"]`).waitForDisplayed({ timeout: 10000 });

  const add = async (name, roles, pin, pinAgain = pin) => {
    await fill(browser, "#staff-name", name);
    for (const role of ["registration", "physician", "phlebotomist", "driver", "supervisor"]) {
      const box = await browser.$(`#staff-role-${role}`);
      if ((await box.isSelected()) !== roles.includes(role)) await box.click();
    }
    await fill(browser, "#staff-pin", pin);
    await fill(browser, "#staff-pin-again", pinAgain);
    await click(browser, "#staff-submit");
  };
  const refusal = async () => {
    await browser.$("#staff-error").waitForDisplayed({ timeout: 10000 });
    return text(browser, "#staff-error");
  };

  await add(NEWCOMER, ["registration", "phlebotomist"], "2468", "2486");
  assert.match(await refusal(), /两次输入的 PIN 不一致/);
  // The PIN refusals are the domain's policy in the catalogue's words (zh-CN here).
  await add(NEWCOMER, ["registration", "phlebotomist"], "24");
  assert.match(await refusal(), /PIN 须为 4–8 位数字/);
  // A driver signs dispatches with this PIN: 4 digits are refused, with what is allowed.
  await add(NEWCOMER, ["registration", "driver"], "2468");
  assert.match(await refusal(), /driver.*至少 6 位数字/);
  await add(NEWCOMER, [], "2468");
  assert.match(await refusal(), /at least one role/);
  await add("登记护士 李敏", ["registration"], "2468");
  assert.match(await refusal(), /already has an account/);
  assert.equal(await browser.$(`#staff-list tr[data-staff="${NEWCOMER}"]`).isExisting(), false, "nothing was added");

  await add(NEWCOMER, ["registration", "phlebotomist"], "2468");
  assert.match(await text(browser, "#staff-added"), new RegExp(`已添加 ${NEWCOMER}`));
  await browser.$(`#staff-list tr[data-staff="${NEWCOMER}"]`).waitForDisplayed({ timeout: 10000 });
  assert.match(await text(browser, `#staff-list tr[data-staff="${NEWCOMER}"]`), /登记 · 采血护士/);
  await shot(browser, "staff-01-colleague-added");
});

test("the new colleague signs in with her own PIN and sees her roles' screens only", async () => {
  await click(browser, "#sign-out");
  await signIn(browser, NEWCOMER, "1111");
  assert.match(await text(browser, "#sign-in-error"), /PIN/);
  await fill(browser, "#pin", "2468");
  await browser.keys(["Enter"]);
  await browser.$("[data-testid=signed-in-as]").waitForDisplayed({ timeout: 10000 });
  assert.equal(await text(browser, "[data-testid=signed-in-as]"), NEWCOMER);
  await click(browser, "button[data-resume]");
  await browser.$("#tab-checkin").waitForDisplayed({ timeout: 10000 });
  assert.ok(await browser.$("#tab-collection").isExisting());
  assert.equal(await browser.$("#tab-screening").isExisting(), false, "no physician's screen");
  assert.equal(await browser.$("#tab-staff").isExisting(), false, "no supervisor's screen");
  await shot(browser, "staff-02-colleague-signed-in");
});
