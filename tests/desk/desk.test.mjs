// The station's receiving desk in a real browser (headless Debian Chromium driven by
// playwright-core), against a real station binary on a temporary data folder:
// a 40-bag manifest in two boxes arrives by replication; at the desk one bag is
// missing, one bag on no manifest is scanned, one bag is in the wrong box, one bag comes
// without one of its sample tubes, and one box had a temperature excursion — each shown,
// the excursion as one decision for the box and every unit's status (quarantined, with
// why) on its line; signing is refused without the box's decision and the reasons and
// accepted with them; the bus gets the result on its next pull. A second manifest is
// handed over by QR only and later arrives by replication: the desk shows they match.
// Screenshots go to artifacts/desk/.
//
// Needs: target/debug/lifebridge-station and target/debug/examples/desk_fixture
// (`make desk-e2e` builds both), /usr/bin/chromium, playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { serveStation } from './station.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const STATION = join(TARGET, 'debug', 'lifebridge-station');
const FIXTURE = join(TARGET, 'debug', 'examples', 'desk_fixture');
const SHOTS = join(ROOT, 'artifacts', 'desk');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let dir;
let server;
let url;
let browser;
let page;

function station(args, input) {
  return execFileSync(STATION, ['--data-dir', join(dir, 'data'), ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

function fixture(deviceId, first, bags) {
  return JSON.parse(execFileSync(FIXTURE, [deviceId, String(first), String(bags)], { encoding: 'utf8' }));
}

async function device(path, token, body) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(data)}`);
  return data;
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function scan(text) {
  await page.locator('#scan').focus();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/// One bag's label will not scan. Typing its DIN into the scan field (with its check
/// character, or the scanner's data without the AIM identifier) verifies nothing; the
/// manual-entry form needs the check character, a reason and a second account's PIN
/// (the driver's), and the line then shows the bag as received by manual entry.
async function typeInsteadOfScan(bag) {
  const received = async () => (await page.locator('#tile-received .n').innerText()).trim();
  const before = await received();
  await scan(bag.typed);
  await page.waitForSelector('#scan-message.error:has-text("手工输入不能核对标签")');
  await scan(bag.text.replace(/^\]C0/, ''));
  await page.waitForSelector('#scan-message.error:has-text("非扫描输入")');
  assert.equal(await received(), before, 'a typed DIN received nothing');
  // The typed DIN is carried into the manual-entry form; the rest is up to the person.
  assert.equal(await page.locator('#manual-typed').inputValue(), bag.typed);
  await page.locator('#manual-piece').selectOption('bag:1');
  await page.locator('#manual-reason').fill('标签受潮无法扫描 / label wet');
  await page.locator('#manual-witness').fill('李司机');
  // Without the second person's PIN: refused, nothing received.
  await page.locator('#manual-button').click();
  await page.waitForSelector('#manual-message.error:has-text("PIN")');
  assert.equal(await received(), before);
  assert.equal(await page.locator(`#line-${bag.din} .manual`).count(), 0);
  await shot('03a-manual-entry-refused');
  // The signed-in receiver cannot be the second person.
  await page.locator('#manual-witness').fill('赵敏');
  await page.locator('#manual-witness-pin').fill('246802');
  await page.locator('#manual-button').click();
  await page.waitForSelector('#manual-message.error:has-text("第二人须是另一名站点账号")');
  assert.equal(await received(), before);
  // With the driver's PIN: received, shown as manual on its line.
  await page.locator('#manual-witness').fill('李司机');
  await page.locator('#manual-witness-pin').fill('135791');
  await page.locator('#manual-button').click();
  await page.waitForSelector('#manual-message.ok');
  assert.equal(Number(await received()), Number(before) + 1);
  assert.equal(await page.locator(`#line-${bag.din}`).getAttribute('data-status'), 'received');
  assert.match(await page.locator(`#line-${bag.din} .manual`).innerText(), /手工录入.*血袋.*李司机.*标签受潮/);
  await shot('03b-manual-entry-accepted');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifebridge-desk-'));
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  station(['staff', 'add', '--name', '赵敏', '--role', 'receiving'], '246802\n');
  station(['staff', 'add', '--name', '李司机', '--role', 'driver'], '135791\n');
  ({ server, url } = await serveStation(STATION, join(dir, 'data'), ['--training']));
  browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('receiving desk: discrepancies shown, reasons required, result back to the bus', async () => {
  // The bus enrolls and pushes its signed 40-bag manifest (as its replicator would).
  const code = station(['device', 'enroll', '--name', 'BUS-DESK']);
  const deviceId = randomUUID();
  const first = fixture(deviceId, 100, 40);
  const enrolled = await device('/v1/enroll', null, { ...first.client, code, device_id: deviceId, device_name: 'BUS-DESK' });
  const token = enrolled.token;
  await device('/v1/push', token, { ...first.client, entries: [first.entry] });

  // Sign in with the keyboard alone.
  await page.goto(`${url}/desk`);
  await page.locator('#signin-name').focus();
  await page.keyboard.type('赵敏');
  await page.keyboard.press('Tab');
  await page.keyboard.type('0000');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#signin-message:has-text("PIN")');
  await shot('01-wrong-pin');
  await page.locator('#signin-pin').focus();
  await page.keyboard.type('246802');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#scan:focus');

  // A second manifest handed over by QR only: the bus had no signal.
  const second = fixture(deviceId, 700, 6);
  for (const part of second.qr) await scan(part);
  await page.waitForSelector('#scan-message:has-text("已从二维码载入清单")');
  const secondRow = page.locator(`#manifest-${second.manifest.id}`);
  await secondRow.waitFor();
  assert.match(await secondRow.innerText(), /二维码/);
  await shot('02-manifest-by-qr');

  // Open the receiving for the replicated manifest (focus its button, Enter).
  await page.locator(`button[data-manifest="${first.manifest.id}"]`).focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('#tile-expected .n:text-is("40")');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'scan');

  const missing = first.scans[7];
  const wrong = first.scans[3];
  const slow = first.scans[1];
  const shortOfTubes = first.scans[25];
  const unreadable = first.scans[5];
  let box = null;
  for (const bag of first.scans) {
    if (bag === missing || bag === wrong) continue;
    if (bag.box !== box) {
      box = bag.box;
      await scan(box);
    }
    if (bag === unreadable) {
      await typeInsteadOfScan(bag);
    } else {
      await scan(bag.text);
    }
    // Its sample tubes travel with it; one bag's second tube stayed on the bus.
    for (const tube of bag === shortOfTubes ? bag.tubes.slice(0, 1) : bag.tubes) await scan(tube);
  }
  // BOX-2 is current now: the bag from BOX-1 scanned here is in the wrong box.
  await scan(wrong.text);
  for (const tube of wrong.tubes) await scan(tube);
  await scan(first.extra.text);
  // Every scan answered: the tiles are final (received reaches 39 before the extra bag's
  // answer, so waiting for that alone read the tiles mid-queue under load).
  await page.waitForSelector('#scan[data-pending="0"]');
  await page.waitForSelector('#tile-received .n:text-is("39")');
  const tile = async (k) => (await page.locator(`#tile-${k} .n`).innerText()).trim();
  assert.equal(await tile('missing'), '1');
  assert.equal(await tile('extra'), '1');
  assert.equal(await tile('wrong_box'), '1');
  assert.equal(await tile('excursion'), '19', 'BOX-1 had an excursion: its 19 received bags are affected');
  assert.equal(await tile('over_time_limit'), '0');
  assert.equal(await tile('tubes_missing'), '1');
  assert.equal(await tile('quarantined'), '20', '19 in the hot box and the bag without its tube');
  assert.equal(await page.locator(`#line-${missing.din}`).getAttribute('data-status'), 'missing');
  assert.equal(await page.locator(`#line-${first.extra.din}`).getAttribute('data-status'), 'extra');
  assert.match(await page.locator(`#line-${wrong.din} .discrepancy`).innerText(), /装错箱/);
  assert.match(await page.locator(`#line-${shortOfTubes.din} .discrepancy`).innerText(), /缺少标本管 2/);
  assert.equal(await page.locator(`#line-${shortOfTubes.din} .tubes`).innerText(), '1/2');
  // The excursion is one decision for the box, not a reason per bag...
  const decisions = page.locator('#box-decisions .box-decision');
  assert.equal(await decisions.count(), 1);
  assert.equal(await decisions.first().getAttribute('data-box'), 'BOX-1');
  assert.equal(await decisions.first().getAttribute('data-bags'), '19');
  assert.match(await decisions.first().innerText(), /箱内 19 袋隔离/);
  assert.equal(await page.locator(`#line-${first.scans[0].din} .discrepancy`).innerText(), '');
  // ...and every bag of the box shows its status, with why, on its line.
  assert.equal(await page.locator(`#line-${first.scans[0].din}`).getAttribute('data-unit'), 'quarantined');
  assert.match(await page.locator(`#line-${first.scans[0].din} .unit`).innerText(), /隔离.*运输中温度超出/);
  assert.match(await page.locator(`#line-${slow.din} .unit`).innerText(), /采血慢.*不能制备血小板/);
  assert.equal(await page.locator(`#line-${shortOfTubes.din}`).getAttribute('data-unit'), 'quarantined');
  assert.match(await page.locator(`#line-${shortOfTubes.din} .unit`).innerText(), /无法检测/);
  assert.equal(await page.locator(`#line-${first.scans[30].din}`).getAttribute('data-unit'), 'suitable');
  await shot('03-discrepancies');

  // A reload returns to the same receiving, scans and all.
  await page.reload();
  await page.waitForSelector('#tile-received .n:text-is("39")');

  // Signing without reasons is refused and the first bag lacking one gets the focus.
  const signWith = async () => {
    await page.locator('#receiver-pin').fill('246802');
    await page.locator('#driver-name').fill('李司机');
    await page.locator('#driver-pin').focus();
    await page.keyboard.type('135791');
    await page.keyboard.press('Enter');
  };
  // First the box: its one decision is asked for, and its field gets the focus.
  await signWith();
  await page.waitForSelector('#sign-message.error:has-text("整箱")');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.box), 'BOX-1');
  await shot('04-box-decision-required');
  await page.keyboard.type('整箱隔离，送质控评估 / whole box quarantined for QA');
  await signWith();
  await page.waitForSelector('#sign-message.error:has-text("原因")');
  const focusedDin = await page.evaluate(() => document.activeElement.dataset.din);
  assert.ok(focusedDin, 'a reason field has the focus');
  assert.match(await page.locator('#sign-message').innerText(), new RegExp(focusedDin));
  await shot('05-reasons-required');
  assert.equal(await page.locator('#signed').count(), 0);

  const reasonFields = page.locator('input.reason');
  const n = await reasonFields.count();
  assert.equal(n, 4, 'missing + extra + wrong box + tubes missing; the 19 hot bags need none of their own');
  for (let i = 0; i < n; i++) {
    await reasonFields.nth(i).focus();
    await page.keyboard.type(i === 0 ? '已与司机核对，血袋留车上 / left on the bus' : '已复测温度 / rechecked');
  }
  await signWith();
  await page.waitForSelector('#signed');
  assert.match(await page.locator('#signed').innerText(), /赵敏.*李司机/s);
  assert.match(await page.locator('#box-decisions').innerText(), /BOX-1：整箱隔离/);
  // The typed bag is listed as manual in the signed hand-off, and still on its line.
  assert.match(await page.locator(`.signed-manual[data-din="${unreadable.din}"]`).innerText(), /手工录入.*李司机/);
  assert.match(await page.locator(`#line-${unreadable.din} .manual`).innerText(), /手工录入/);
  await shot('06-signed');

  // English is one selection away and the figures stay.
  await page.selectOption('#lang', 'en');
  await page.waitForSelector('#tile-missing:has-text("Missing")');
  assert.match(await page.locator(`#line-${first.scans[0].din} .unit`).innerText(), /quarantined/);
  await shot('07-english');
  await page.selectOption('#lang', 'zh-CN');

  // The bus pulls the hand-off on its next sync.
  const pulled = await device('/v1/pull', token, { ...first.client, after: 0, limit: 100 });
  const handoffs = pulled.records.filter((r) => r.kind === 'handoff');
  assert.equal(handoffs.length, 1);
  const record = JSON.parse(handoffs[0].body);
  assert.deepEqual(record.manifest_ids, [first.manifest.id]);
  assert.equal(record.tally.missing, 1);
  assert.equal(record.received.length, 39);
  assert.ok(record.discrepancies.every((d) => d.reason.length > 0));
  assert.ok(record.discrepancies.some((d) => d.din === first.extra.din));
  assert.equal(record.box_decisions.length, 1);
  assert.equal(record.box_decisions[0].excursion.bags.length, 19);
  assert.equal(record.units.length, 20);
  assert.equal(record.manual_labels.length, 1);
  assert.equal(record.manual_labels[0].din, unreadable.din);
  assert.equal(record.manual_labels[0].at_desk[0].authorised_by.name, '李司机');

  // The QR-only manifest arrives later by replication: the desk shows the two match.
  await device('/v1/push', token, { ...second.client, entries: [{ ...second.entry, seq: 2 }] });
  await page.reload();
  await page.locator(`#manifest-${second.manifest.id}`).waitFor();
  assert.match(await page.locator(`#manifest-${second.manifest.id}`).innerText(), /二维码与同步一致/);
  await shot('08-qr-matches-replicated');

  // The statistics page draws the station's figures: a demo drive's bus syncs.
  const activity = JSON.parse(execFileSync(FIXTURE, ['activity', '12'], { encoding: 'utf8' }));
  const statsCode = station(['device', 'enroll', '--name', 'BUS-STATS']);
  const stats = await device('/v1/enroll', null, {
    ...activity.client, code: statsCode, device_id: activity.device_id, device_name: 'BUS-STATS',
  });
  for (let i = 0; i < activity.entries.length; i += 200) {
    await device('/v1/push', stats.token, { ...activity.client, entries: activity.entries.slice(i, i + 200) });
  }
  // The figures need a desk session (docs/security.md): none without it, the desk tab's with it.
  assert.equal((await fetch(`${url}/desk/api/statistics`)).status, 401, 'statistics without a desk session');
  const deskToken = await page.evaluate(() => sessionStorage.getItem('lifebridge.desk.token'));
  assert.ok(deskToken, 'the desk tab keeps its session');
  const figures = await (await fetch(`${url}/desk/api/statistics`, {
    headers: { Authorization: `Bearer ${deskToken}` },
  })).json();
  assert.ok(figures.year.donations > 0, JSON.stringify(figures.year));
  await page.goto(`${url}/stats`);
  await page.waitForSelector(`#year-donations .n:text-is("${figures.year.donations}")`);
  assert.equal(await page.locator('#year svg').count(), 4, 'site, ABO/RhD, volume and shares charts');
  await shot('09-statistics');
});
