// Without a provisioned key the app asks for the device passphrase; a wrong one opens
// nothing and says so.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { KEY, click, demoStore, fill, launchApp, shot, text } from "./harness.mjs";

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
