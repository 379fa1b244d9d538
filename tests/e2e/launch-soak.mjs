// `xvfb-run -a node tests/e2e/launch-soak.mjs [N]`: opens the app's WebDriver session N
// times in a row (default 30), each on a new demo store, and prints how long each took
// to the sign-in screen. Exits 1 if any launch failed. Run it on a loaded machine
// (`stress-ng --cpu 2` or a parallel `cargo build`) and after removing ~/.cache,
// ~/.local/share and /var/cache/fontconfig to show a cold first start opens its session.
import { KEY, demoStore, launchApp } from "./harness.mjs";

const runs = Number(process.argv[2] ?? 30);
const times = [];
let failed = 0;
for (let i = 1; i <= runs; i++) {
  const { store } = demoStore(1);
  const t0 = performance.now();
  let app;
  try {
    app = await launchApp({ LIFEBRIDGE_STORE: store, LIFEBRIDGE_STORE_KEY: KEY });
    await (await app.browser.$("button[data-staff]")).waitForClickable({ timeout: 60000 });
    const ms = Math.round(performance.now() - t0);
    times.push(ms);
    console.log(`launch ${i}/${runs}: sign-in screen after ${ms} ms`);
  } catch (err) {
    failed++;
    console.log(`launch ${i}/${runs}: FAILED after ${Math.round(performance.now() - t0)} ms: ${err?.message ?? err}`);
  } finally {
    await app?.close();
  }
}
const sorted = [...times].sort((a, b) => a - b);
const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(`${times.length} opened, ${failed} failed; ms to sign-in: min ${sorted[0]}, median ${at(0.5)}, max ${sorted.at(-1)}`);
process.exit(failed ? 1 : 0);
