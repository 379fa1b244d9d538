// A device without a store: the app never makes one unasked. First-run set-up is its own
// screen that names the file it will create; the passphrase is typed twice.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { click, fill, launchApp, shot, text } from "./harness.mjs";

const PASSPHRASE = "e2e-first-run-passphrase";
let app;
let store;
before(async () => {
  store = path.join(mkdtempSync(path.join(tmpdir(), "lifebridge-e2e-setup-")), "device.db");
  app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: "", LIFEBRIDGE_DEVICE_NAME: "BUS-NEW" });
});
after(async () => { await app?.close(); });

test("set-up says what it will create and creates it only when asked", async () => {
  const { browser } = app;
  const hint = await text(browser, "#setup-hint", 15000);
  assert.ok(hint.includes(store), hint);
  assert.ok(hint.includes("BUS-NEW"), hint);
  assert.equal(existsSync(store), false, "nothing is created before the crew asks");
  await shot(browser, "12-setup");
  await fill(browser, "#setup-passphrase", PASSPHRASE);
  await fill(browser, "#setup-passphrase-again", `${PASSPHRASE}-typo`);
  await click(browser, "#create-store");
  assert.equal(await text(browser, "[role=alert]"), "两次输入的设备口令不一致");
  assert.equal(existsSync(store), false);
  await browser.$("#setup-passphrase-again").clearValue();
  await fill(browser, "#setup-passphrase-again", PASSPHRASE);
  await click(browser, "#create-store");
  await browser.$("#lock-device").waitForDisplayed({ timeout: 15000 });
  assert.equal(await browser.$("#setup").isExisting(), false);
  assert.equal(existsSync(store), true);
});
