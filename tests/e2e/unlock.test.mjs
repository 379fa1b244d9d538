// Without a provisioned key the app asks for the device passphrase; a wrong one opens
// nothing and says so.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KEY, click, demoStore, fill, launchApp, shot, signIn, text } from "./harness.mjs";

let app;
before(async () => {
  const { store } = demoStore(1);
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: "" });
});
after(async () => { await app?.close(); });

test("a wrong device passphrase is refused; the right one shows the crew", async () => {
  const { browser } = app;
  await fill(browser, "#passphrase", "not-the-passphrase");
  await browser.keys(["Enter"]);
  assert.equal(await text(browser, "[role=alert]"), "设备口令错误");
  assert.equal(await browser.$("button[data-staff]").isExisting(), false);
  await shot(browser, "10-wrong-passphrase");
  await browser.$("#passphrase").clearValue();
  await fill(browser, "#passphrase", KEY);
  await click(browser, "button[type=submit]");
  await browser.$("button[data-staff]").waitForDisplayed({ timeout: 15000 });
});

test("the lock button signs out and asks for the passphrase again; a wrong one unlocks nothing", async () => {
  const { browser } = app;
  await signIn(browser, "采血护士 张静");
  await browser.$("[data-testid=signed-in-as]").waitForDisplayed({ timeout: 15000 });
  await click(browser, "#lock-device");
  await browser.$("#passphrase").waitForDisplayed({ timeout: 15000 });
  assert.equal(await browser.$("[data-testid=signed-in-as]").isExisting(), false);
  await fill(browser, "#passphrase", "not-the-passphrase");
  await browser.keys(["Enter"]);
  assert.equal(await text(browser, "[role=alert]"), "设备口令错误");
  await shot(browser, "11-locked-wrong-passphrase");
  await browser.$("#passphrase").clearValue();
  await fill(browser, "#passphrase", KEY);
  await click(browser, "button[type=submit]");
  // Unlocked, and nobody is signed in: the next person picks themselves.
  await browser.$("button[data-staff]").waitForDisplayed({ timeout: 15000 });
  assert.equal(await browser.$("[data-testid=signed-in-as]").isExisting(), false);
});
