// Shared set-up for the end-to-end tests: a demo store, optionally a real station, and
// the real app binary driven through tauri-driver → WebKitWebDriver.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach } from "node:test";
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

/** Every demo account's PIN (`lifebridge_store::demo::DEMO_PIN`): 6 digits, as accounts that sign need. */
export const DEMO_PIN = "123456";

/** A store with a demo crew (PIN DEMO_PIN), today's demo drive and a training DIN range. */
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
    this.proc = new Proc("station", STATION, ["--data-dir", this.dataDir, "serve", "--listen", `127.0.0.1:${this.port}`, "--din-facility", "W1234", "--training"], process.env);
    await waitForProcPort(this.proc, "lifebridge-station", this.port, 30000);
  }
  /** Stops the station at once (SIGKILL), as a power cut or a lost link would. */
  async stop() {
    if (!this.proc) return;
    this.proc.kill();
    await this.proc.exited;
    this.proc = null;
  }
}

/** A bus hub (`lifebridge-station hub`): a station on the bus that its tablets enroll
 * with, linked to `upstream` (a Station) by a hub enrollment code on its first start. */
export class Hub extends Station {
  constructor(dataDir, port, upstream) { super(dataDir, port); this.upstream = upstream; this.enrolled = false; }
  static async create(upstream) {
    const dataDir = mkdtempSync(path.join(tmpdir(), "lifebridge-hub-"));
    return new Hub(dataDir, await freePort(), upstream);
  }
  /** Starts the hub; `link: "off"` keeps records on the bus (no station reachable). */
  async start({ link = "on" } = {}) {
    const args = ["--data-dir", this.dataDir, "hub", "--listen", `127.0.0.1:${this.port}`, "--din-facility", "W1234",
      "--training", "--name", "BUS-HUB", "--link", link];
    if (!this.enrolled) {
      const out = execFileSync(STATION, ["--data-dir", this.upstream.dataDir, "device", "enroll", "--name", "BUS-HUB", "--hub"]).toString();
      args.push("--upstream", this.upstream.url, "--code", out.trim().split(/\s+/).pop());
      this.enrolled = true;
    }
    this.proc = new Proc("hub", STATION, args, process.env);
    await waitForProcPort(this.proc, "lifebridge-station hub", this.port, 30000);
  }
  /** Switches the hub's upstream link from the hub machine (its page's switch). */
  async link(on) {
    const r = await fetch(`${this.url}/hub/api/link`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ on }),
    });
    if (!r.ok) throw new Error(`hub link ${on}: ${r.status} ${await r.text()}`);
  }
}

// Every process a test starts (station, tauri-driver and, in its process group,
// WebKitWebDriver and the app) is tracked here and killed when the file ends, whatever
// failed: a failing hook must never leave a driver behind that keeps the run alive.
const live = new Set();
process.on("exit", () => { for (const p of live) p.kill(); });
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => { for (const p of live) p.kill(); process.exit(128 + (signal === "SIGTERM" ? 15 : 2)); });
}

/** A child process in its own process group, with the tail of its output kept for the
 * failure report. `stop()` kills the whole group and never throws. */
class Proc {
  constructor(name, cmd, args, env) {
    this.name = name;
    this.out = "";
    this.exit = null;
    this.proc = spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk) => { this.out = (this.out + chunk.toString()).slice(-16384); };
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => { this.exit = signal ?? code; live.delete(this); resolve(); });
      this.proc.once("error", (err) => { this.exit = err.message; live.delete(this); resolve(); });
    });
    live.add(this);
  }
  /** The last lines it printed, for a failure report. */
  tail(lines = 40) {
    const text = this.out.trimEnd().split("\n").slice(-lines).join("\n");
    return `--- ${this.name} (pid ${this.proc.pid}, ${this.exit === null ? "running" : `exited: ${this.exit}`}), last output:\n${text || "(nothing)"}`;
  }
  kill() {
    try { process.kill(-this.proc.pid, "SIGKILL"); } catch { /* already gone */ }
  }
  async stop() {
    if (this.exit !== null) return;
    // SIGTERM first: tauri-driver stops WebKitWebDriver on it; then the group, whatever is left.
    try { process.kill(-this.proc.pid, "SIGTERM"); } catch { /* already gone */ }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
    this.kill();
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

/** Waits until `port` accepts connections, failing early (naming `who`) if `proc` exits. */
async function waitForProcPort(proc, who, port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exit !== null) throw new Error(`${who} exited (${proc.exit}) before listening on port ${port}`);
    if (await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
      s.on("error", () => resolve(false));
    })) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${who} was not listening on port ${port} after ${ms / 1000} s`);
}

// A cold machine (first start: fontconfig caches, WebKit's processes, the GL shader
// cache) can take tens of seconds before the first session opens; later launches in
// the same file take a few seconds. A launch whose session request has not answered in
// its time is a hung WebKit start, not a slow one: it is stopped and started again
// (once), instead of spending the test's whole time limit on one hung request.
const SESSION_LIMITS_MS = { first: 100000, later: 50000 };
const RELAUNCHES = 1;
let launchedBefore = false;
const connectionError = (err) => /UND_ERR_SOCKET|ECONNREFUSED|ECONNRESET|socket hang up|other side closed/i.test(String(err?.message ?? err) + String(err?.cause?.code ?? ""));

class SessionHung extends Error {}

/** Starts tauri-driver with `env` for the app and opens a WebDriver session on it. Waits
 * for both tauri-driver and the native WebKitWebDriver behind it, and retries session
 * creation with a bounded backoff while the connection itself fails (the request never
 * reached the native driver). A launch that hangs is stopped and started once more. On
 * failure every process is stopped and the drivers' output is printed. */
export async function launchApp(env) {
  for (let launch = 0; ; launch++) {
    const limit = launchedBefore ? SESSION_LIMITS_MS.later : SESSION_LIMITS_MS.first;
    try {
      const app = await launchOnce(env, limit);
      launchedBefore = true;
      return app;
    } catch (err) {
      if (!(err instanceof SessionHung) || launch >= RELAUNCHES) throw err;
      console.error(`launchApp: ${err.message}; stopping it and launching again`);
      launchedBefore = true;
    }
  }
}

async function launchOnce(env, limitMs) {
  const port = await freePort();
  const nativePort = await freePort();
  // A fresh web profile per app (WebKit keeps localStorage, e.g. the chosen language,
  // under $XDG_DATA_HOME): no test starts from what an earlier run left behind.
  const webData = mkdtempSync(path.join(tmpdir(), "lifebridge-webdata-"));
  const driver = new Proc("tauri-driver + WebKitWebDriver + app", "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort)],
    { ...process.env, XDG_DATA_HOME: webData, ...env });
  const started = Date.now();
  const elapsed = () => Math.round((Date.now() - started) / 1000);
  try {
    await waitForProcPort(driver, "tauri-driver", port, 30000);
    await waitForProcPort(driver, "WebKitWebDriver (started by tauri-driver)", nativePort, 60000);
    let browser;
    for (let attempt = 1, pause = 250; ; attempt++, pause = Math.min(pause * 2, 4000)) {
      const left = limitMs - (Date.now() - started);
      let timer;
      const hung = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new SessionHung(`no WebDriver session after ${attempt} attempt(s) in ${elapsed()} s (limit ${limitMs / 1000} s)`)), Math.max(left, 1000));
      });
      try {
        const session = remote({
          hostname: "127.0.0.1", port, logLevel: "error", connectionRetryCount: 0,
          // Each later WebDriver command's own limit; the session request is bounded by `hung`.
          connectionRetryTimeout: 120000,
          capabilities: { "tauri:options": { application: APP } },
        });
        // A request abandoned as hung fails later, when its driver is stopped: not an
        // unhandled rejection that would end the test process.
        session.catch(() => {});
        browser = await Promise.race([session, hung]);
        break;
      } catch (err) {
        if (err instanceof SessionHung) throw err;
        const leftNow = limitMs - (Date.now() - started);
        if (!connectionError(err) || leftNow < pause || driver.exit !== null) {
          throw new Error(`no WebDriver session after ${attempt} attempt(s) in ${elapsed()} s: ${err?.message ?? err}`);
        }
        console.error(`launchApp: session attempt ${attempt} failed (${err?.message ?? err}); retrying in ${pause} ms`);
        await new Promise((r) => setTimeout(r, pause));
      } finally {
        clearTimeout(timer);
      }
    }
    await browser.setTimeout({ implicit: 0 });
    const app = {
      browser,
      driver,
      async close() {
        if (!apps.delete(app)) return; // closed already (the harness's own after hook)
        try { await Promise.race([browser.deleteSession(), new Promise((r) => setTimeout(r, 10000))]); } catch { /* the app may already be gone */ }
        await driver.stop();
      },
    };
    apps.add(app);
    return app;
  } catch (err) {
    console.error(`launchApp failed: ${err?.message ?? err}\n${driver.tail()}`);
    await driver.stop();
    throw err;
  }
}

// Apps still open, for the failure report below.
const apps = new Set();

// Under `node --test` (each file runs in its own process): after a failed test, keep a
// screenshot of every open window and print the tail of the drivers' and the app's
// output; when the file ends, stop whatever is still running.
if (process.env.NODE_TEST_CONTEXT) {
  // A file that has not finished in this time is stuck (each test also has its own
  // --test-timeout, but a hook can wait on a process forever): report and end it.
  const limit = Number(process.env.LIFEBRIDGE_E2E_FILE_LIMIT_SECS ?? 600);
  setTimeout(() => {
    console.error(`e2e: ${path.basename(process.argv[1] ?? "test file")} still running after ${limit} s; stopping it`);
    for (const p of live) console.error(p.tail());
    for (const p of live) p.kill();
    process.exit(1);
  }, limit * 1000).unref();
  afterEach(async (t) => {
    if (t.passed) return;
    for (const app of apps) {
      await shot(app.browser, `FAILED-${t.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
    }
    for (const p of live) console.error(p.tail());
  });
  after(async () => {
    for (const app of [...apps]) await app.close().catch(() => {});
    for (const p of [...live]) await p.stop();
  });
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

export async function signIn(browser, name, pin = DEMO_PIN) {
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
  const zpl = readFileSync(out, "utf8");
  const data = zpl.match(/\^BC[^^]*\^FH\^FD([^^]*)\^FS/)?.[1];
  if (!data) throw new Error(`no Code 128 field in the rendered label: ${zpl.slice(0, 200)}`);
  // ^FH makes `_` the hex escape: `_5E` is `^`.
  return data.replace(/_([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** The screening's health questionnaire answered "nothing to declare" by tapping, as a
 * donor with nothing to report would: every question asked of this donor that is still
 * unanswered gets the answer the document gives no meaning (`data-means`), until none is
 * left (answers open follow-ups, so the rows are read again after each tap). Questions
 * answered before (e.g. a tattoo) are left as they are. */
export async function answerNothingToDeclare(browser) {
  await browser.$("#questionnaire .q-row").waitForDisplayed({ timeout: 10000 });
  for (let taps = 0; taps < 200; taps++) {
    const row = await browser.$("#questionnaire .q-row:not(.answered)");
    if (!(await row.isExisting())) return;
    const id = await row.getAttribute("data-question");
    await answerQuestion(browser, id, null);
  }
  throw new Error("the questionnaire still has unanswered questions after 200 taps");
}

/** Taps answer `answer` (`yes`, `no`, an option id; null: the one that means nothing) of
 * question `id` and waits until the row shows it answered. */
export async function answerQuestion(browser, id, answer) {
  const row = `#questionnaire .q-row[data-question="${id}"]`;
  let button = `${row} button[data-answer="${answer}"]`;
  if (answer === null) {
    // "No" when it means nothing (a "yes" to "were you ill recently?" means nothing by
    // itself but asks which illness), else the first answer that means nothing.
    const no = `${row} button[data-answer="no"]:not([data-means])`;
    button = (await browser.$(no).isExisting()) ? no : `${row} button[data-answer]:not([data-means])`;
  }
  const el = await browser.$(button);
  await el.scrollIntoView({ block: "center" });
  await el.waitForClickable({ timeout: 10000 });
  await el.click();
  await browser.waitUntil(async () => ((await (await browser.$(row)).getAttribute("class")) ?? "").includes("answered"), {
    timeout: 10000, timeoutMsg: `question ${id} never showed as answered`,
  });
}

/** A GB 11643 resident ID number with its check character. */
export function residentId(area, birth, seq) {
  const first17 = `${area}${birth}${seq}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * w[i], 0);
  return first17 + "10X98765432"[sum % 11];
}

/** The donor signs the consent pad with a finger: one pointer drag (a zigzag across the
 * middle of the pad), then "confirm signature". */
export async function signConsent(browser) {
  const pad = await browser.$("#signature-pad");
  await pad.waitForDisplayed({ timeout: 10000 });
  await pad.scrollIntoView({ block: "center" });
  await dragOn(browser, pad, 14, 24);
  await click(browser, "#signature-done");
  await browser.$("#consent-status").waitForDisplayed({ timeout: 10000 });
}

/** A pointer drag of `steps` moves of `dx` pixels across `el`, from left of its centre. */
export async function dragOn(browser, el, steps, dx) {
  const start = -Math.round((steps * dx) / 2);
  let action = browser.action("pointer", { parameters: { pointerType: "touch" } })
    .move({ origin: el, x: start, y: 0 }).down();
  for (let i = 1; i <= steps; i++) action = action.move({ origin: el, x: start + i * dx, y: i % 2 ? -30 : 30, duration: 20 });
  await action.up().perform();
}

/** Resumes today's drive from the drive screen. */
export async function resumeDrive(browser) {
  await click(browser, "button[data-resume]");
  await browser.$("[data-testid=current-drive]").waitForDisplayed({ timeout: 10000 });
}

export async function signOut(browser) {
  await click(browser, "#sign-out");
  await browser.$("button[data-staff]").waitForDisplayed({ timeout: 10000 });
}
