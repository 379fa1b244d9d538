// The bus hub's page (/hub) in a real browser (headless Debian Chromium, playwright-core),
// against real binaries: a station, and a hub enrolled with it by a hub code. Two tablets
// enroll with the hub; the page lists them, says when they are registered at the station,
// switches the upstream link off and on, and says since when the station is unreachable
// once it stops. Screenshots go to artifacts/desk/hub-*.png.
//
// Needs: target/debug/lifebridge-station, /usr/bin/chromium, playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

const ROOT = new URL('../..', import.meta.url).pathname;
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const STATION = join(TARGET, 'debug', 'lifebridge-station');
const SHOTS = join(ROOT, 'artifacts', 'desk');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let dir;
let station;
let hub;
let stationUrl;
let hubUrl;
let browser;
let page;

function cli(data, args) {
  return execFileSync(STATION, ['--data-dir', join(dir, data), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/// Starts `lifebridge-station` with `args`; resolves with the address it listens on.
function serve(args) {
  const proc = spawn(STATION, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const listening = new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    proc.on('exit', (code) => reject(new Error(`${args[2]} exited (${code})`)));
  });
  return { proc, listening };
}

async function enrollTablet(name) {
  const code = cli('hub', ['device', 'enroll', '--name', name]);
  const res = await fetch(`${hubUrl}/v1/enroll`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      protocol_version: 1, schema_version: 1, device_time: new Date().toISOString(),
      code, device_id: randomUUID(), device_name: name,
    }),
  });
  assert.equal(res.status, 200, `enroll ${name}: ${await res.text()}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifebridge-hub-page-'));
  mkdirSync(SHOTS, { recursive: true });
  const s = serve(['--data-dir', join(dir, 'station'), 'serve', '--listen', '127.0.0.1:0', '--din-facility', 'A9999', '--training']);
  station = s.proc;
  stationUrl = await s.listening;
  const code = cli('station', ['device', 'enroll', '--name', 'BUS-07-HUB', '--hub']);
  const h = serve(['--data-dir', join(dir, 'hub'), 'hub', '--upstream', stationUrl, '--code', code, '--name', 'BUS-07-HUB',
    '--listen', '127.0.0.1:0', '--din-facility', 'A9999', '--training']);
  hub = h.proc;
  hubUrl = await h.listening;
  browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'zh-CN',
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
});

after(async () => {
  await browser?.close();
  hub?.kill('SIGTERM');
  station?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('hub page: tablets registered at the station, the link switched off and on, the station unreachable', async () => {
  await enrollTablet('BUS-07-T1');
  await enrollTablet('BUS-07-T2');
  await page.goto(`${hubUrl}/hub`);
  await page.waitForSelector('h1:has-text("车载主机")');
  assert.match(await page.locator('#station').innerText(), new RegExp(`${stationUrl.replace(/[.]/g, '\\.')}.*BUS-07-HUB`));
  // The relay registers both tablets at the station within a round or two (every 2 s).
  for (const name of ['BUS-07-T1', 'BUS-07-T2']) {
    await page.waitForSelector(`#tablets tr:has-text("${name}"):has-text("已在工作站登记")`, { timeout: 15000 });
  }
  assert.match(cli('station', ['device', 'list']), /BUS-07-T1.*BUS-07-HUB/);
  assert.equal(await page.locator('#link-state').innerText(), '开启（记录自动上传）');
  await page.screenshot({ path: join(SHOTS, 'hub-1-linked.png'), fullPage: true });

  // Off from the hub machine's own screen (this browser is on loopback): the hub holds it.
  await page.locator('#switch').click();
  await page.waitForSelector('#link-state:has-text("关闭")');
  const status = await (await fetch(`${hubUrl}/hub/api/status`)).json();
  assert.equal(status.link.paused, true);
  await page.locator('#switch').click();
  await page.waitForSelector('#link-state:has-text("开启")');

  // The station goes away: the page says since when it cannot be reached.
  station.kill('SIGKILL');
  await page.waitForSelector('#contact:has-text("起无法连接工作站")', { timeout: 20000 });
  await page.screenshot({ path: join(SHOTS, 'hub-2-unreachable.png'), fullPage: true });

  // English, from the same page.
  await page.selectOption('#lang', 'en');
  await page.waitForSelector('#contact:has-text("Station unreachable since")');
  assert.equal(await page.locator('th').first().innerText(), 'Tablet');
});
