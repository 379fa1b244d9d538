// `npm run figures` (under xvfb-run): cold start to an interactive sign-in screen, and
// the app's resident memory after a 50-donor demo drive. Prints figures; asserts none.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { KEY, click, demoStore, launchApp, signIn } from "./harness.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) : 0;
}

/** The app process and every process it started (WebKit's web and network processes). */
function processTree(root) {
  const children = new Map();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1];
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(pid);
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const c of children.get(p) ?? []) walk(c); };
  walk(String(root));
  return out;
}

const startTimes = [];
for (let i = 0; i < 5; i++) {
  const { store } = demoStore(1);
  const t0 = performance.now();
  const app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
  await (await app.browser.$("button[data-staff]")).waitForClickable({ timeout: 30000 });
  startTimes.push(performance.now() - t0);
  await app.close();
}

const { store } = demoStore(50);
const app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
const { browser } = app;
await signIn(browser, "采血护士 张静");
await click(browser, "button[data-resume]");
await click(browser, "#tab-queue");
await browser.waitUntil(async () => (await browser.$$("#queue tr")).length === 50, { timeout: 30000 });
await click(browser, "#tab-summary");
await browser.$("#sum-checked-in").waitForDisplayed({ timeout: 10000 });
const appPid = execFileSync("pgrep", ["-n", "-x", "lifebridge-app"]).toString().trim();
const tree = processTree(appPid);
const appRss = rssKiB(appPid);
const totalRss = tree.reduce((acc, p) => { try { return acc + rssKiB(p); } catch { return acc; } }, 0);
await app.close();

console.log(`cold start to interactive sign-in (median of 5, includes WebDriver session set-up): ${median(startTimes).toFixed(0)} ms`);
console.log(`  all runs: ${startTimes.map((t) => t.toFixed(0)).join(", ")} ms`);
console.log(`resident memory after a 50-donor demo drive (queue and summary shown):`);
console.log(`  lifebridge-app process: ${(appRss / 1024).toFixed(1)} MiB`);
console.log(`  with its WebKit processes (${tree.length} processes): ${(totalRss / 1024).toFixed(1)} MiB`);
