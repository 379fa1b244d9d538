// Shared set-up for the end-to-end tests: a demo store, optionally a real station, and
// the real app binary driven through tauri-driver → WebKitWebDriver.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { remote } from "webdriverio";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
export const APP = path.join(TARGET, "debug", "lifebridge-app");
export const CLI = path.join(TARGET, "debug", "lifebridge");
export const STATION = path.join(TARGET, "debug", "lifebridge-station");
export const ARTIFACTS = path.join(ROOT, "artifacts", "e2e");
export const KEY = "e2e-device-passphrase";
mkdirSync(ARTIFACTS, { recursive: true });

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on("error", reject);
  });
}

export async function waitForPort(port, ms = 30000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on port ${port} after ${ms} ms`);
}

/** A store with a demo crew (PIN 1234), today's demo drive and a training DIN range. */
export function demoStore(donations = 2) {
  const dir = mkdtempSync(path.join(tmpdir(), "lifebridge-e2e-"));
  const store = path.join(dir, "device.db");
  execFileSync(CLI, ["store", "demo", "--store", store, "--donations", String(donations)], {
    env: { ...process.env, LIFEBRIDGE_STORE_KEY: KEY }, stdio: ["ignore", "ignore", "inherit"],
  });
  return { dir, store };
}

export class Station {
  constructor(dataDir, port) { this.dataDir = dataDir; this.port = port; this.proc = null; }
  static async create() {
    const dataDir = mkdtempSync(path.join(tmpdir(), "lifebridge-station-"));
    return new Station(dataDir, await freePort());
  }
  get url() { return `http://127.0.0.1:${this.port}`; }
  enroll(name) {
    const out = execFileSync(STATION, ["--data-dir", this.dataDir, "device", "enroll", "--name", name]).toString();
    const code = out.trim().split(/\s+/).pop();
    if (!code) throw new Error(`no enrollment code in: ${out}`);
    return code;
  }
  /** A station account made the way an administrator does: the PIN on standard input. */
  addStaff(name, role, pin) {
    const out = execFileSync(STATION, ["--data-dir", this.dataDir, "staff", "add", "--name", name, "--role", role], {
      input: `${pin}\n`,
    }).toString();
    if (!out.includes(`added ${name}`)) throw new Error(`staff add ${name}: ${out}`);
  }
  async start() {
    this.proc = spawn(STATION, ["--data-dir", this.dataDir, "serve", "--listen", `127.0.0.1:${this.port}`, "--din-facility", "W1234"], { stdio: "ignore" });
    await waitForPort(this.port);
  }
  async stop() {
    if (!this.proc) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGKILL");
    await exited;
    this.proc = null;
  }
}

/** Starts tauri-driver with `env` for the app and opens a WebDriver session on it. */
export async function launchApp(env) {
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(port);
  const browser = await remote({
    hostname: "127.0.0.1", port, logLevel: "error", connectionRetryCount: 0,
    capabilities: { "tauri:options": { application: APP } },
  });
  await browser.setTimeout({ implicit: 0 });
  return {
    browser,
    async close() {
      try { await browser.deleteSession(); } catch { /* the app may already be gone */ }
      driver.kill();
    },
  };
}

/** The app on a fresh demo store with `donations` donors, enrolling with `station` at its
 * first start under `name` and syncing every 2 seconds. */
export async function launchEnrolledApp(station, code, name, donations = 2) {
  const { store } = demoStore(donations);
  return launchApp({
    LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY, LIFEBRIDGE_DEVICE_NAME: name,
    LIFEBRIDGE_STATION_URL: station.url, LIFEBRIDGE_ENROLL_CODE: code, LIFEBRIDGE_SYNC_INTERVAL_SECS: "2",
  });
}

export async function shot(browser, name) {
  await browser.saveScreenshot(path.join(ARTIFACTS, `${name}.png`));
}

/** Types like a hand-held scanner: fast keystrokes ending in Enter. */
export async function scanInto(browser, selector, text) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10000 });
  await el.click();
  // Element "send keys": WebKit types each character as a key event, as a scanner
  // does (a per-key array through browser.keys() merges repeated keys in WebKit).
  await el.addValue(text);
  await browser.keys(["Enter"]);
}

export async function text(browser, selector, timeout = 10000) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout });
  return el.getText();
}

export async function click(browser, selector) {
  const el = await browser.$(selector);
  await el.waitForClickable({ timeout: 10000 });
  await el.click();
}

export async function fill(browser, selector, value) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10000 });
  await el.setValue(value);
}

export async function signIn(browser, name, pin = "1234") {
  await click(browser, `button[data-staff="${name}"]`);
  await fill(browser, "#pin", pin);
  await browser.keys(["Enter"]);
}

/** What a hand scanner reads off one label of `din` (`kind` bag|satellite|tube|record,
 * `piece` 1..): the Code 128 data of that label as `lifebridge label render` prints it, so
 * a test never spells flag characters itself. */
export function labelScan(din, kind, piece = 1) {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "lifebridge-label-")), "label.zpl");
  const args = ["label", "render", "--din", `=${din}00`, "--kind", kind, "--format", "zpl", "--out", out];
  if (kind === "satellite" || kind === "tube") args.push("--piece", String(piece));
  execFileSync(CLI, args);
  const zpl = process.getBuiltinModule("node:fs").readFileSync(out, "utf8");
  const data = zpl.match(/\^BC[^^]*\^FH\^FD([^^]*)\^FS/)?.[1];
  if (!data) throw new Error(`no Code 128 field in the rendered label: ${zpl.slice(0, 200)}`);
  // ^FH makes `_` the hex escape: `_5E` is `^`.
  return data.replace(/_([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}
