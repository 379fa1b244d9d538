// The donor's pre-fill page (/prefill) on a phone-sized headless Debian Chromium
// (playwright-core), against a real station binary: a donor enters their resident ID
// (a mistyped check digit is caught on the page), answers the questionnaire — follow-ups
// appear only when they apply, questions for women are not shown to a man — including
// "tattoo, 3 months ago", switches language, and gets a QR. The QR is photographed as a
// camera would see it (a 1280×720 grey frame, the code at an angle at ~30 % of the
// height, blurred and noisy), and `lifebridge prefill read` decodes that frame to the
// answers given, which `lifebridge eligibility` takes as they are (the tattoo defers);
// the next day it refuses the code. The page makes no request after it
// loads. Saved as one file and opened with the network off, it works the same.
// Screenshots go to artifacts/desk/prefill/.
//
// Needs: target/debug/lifebridge-station and target/debug/lifebridge (`make desk-e2e`
// builds both), /usr/bin/chromium, playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { serveStation } from './station.mjs';
import { cameraFrame } from './camera-frame.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const STATION = join(TARGET, 'debug', 'lifebridge-station');
const CLI = join(TARGET, 'debug', 'lifebridge');
const SHOTS = join(ROOT, 'artifacts', 'desk', 'prefill');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let dir;
let server;
let url;
let browser;

function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
const TODAY = isoDay(new Date());
const TOMORROW = isoDay(new Date(Date.now() + 86_400_000));

/// A valid resident ID number (GB 11643 check character) from its first 17 digits.
function residentId(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/// `lifebridge prefill read`: the decoded JSON, or the refusal and exit code.
function read(args) {
  const r = spawnSync(CLI, ['prefill', 'read', ...args], { encoding: 'utf8', env: { ...process.env, LANG: 'zh_CN.UTF-8' } });
  return { status: r.status, json: r.status === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

/// A phone-sized browser context in which every request is counted and only the page's
/// own address (or nothing, `offline`) is let through.
async function phone({ allow, offline = false }) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 412, height: 915 }, offline });
  const requests = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    requests.push(u);
    return allow && u === allow ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, requests, errors };
}

/// Answers every question shown: "no", except feeling well and having slept and eaten;
/// `yes` lists the questions answered "yes". Returns the answers the code should hold.
async function answerAll(page, yes) {
  const answers = {};
  const rows = await page.$$eval('[id^="q-"]', (els) => els.filter((e) => !e.hidden).map((e) => [e.id.slice(2), e.dataset.type]));
  for (const [id, type] of rows) {
    if (type !== 'yes_no') continue;
    const value = yes.includes(id) || id === 'feel_well' || id === 'slept_ate';
    await page.locator(`#q-${id} input[value="${value}"]`).check();
    answers[id] = value;
  }
  return answers;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifebridge-prefill-'));
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  ({ server, url } = await serveStation(STATION, join(dir, 'data'), ['--training']));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a donor pre-fills on the phone; the QR, photographed, reads back as their answers', async () => {
  const pageUrl = `${url}/prefill`;
  const { context, page, requests, errors } = await phone({ allow: pageUrl });
  await page.goto(pageUrl, { waitUntil: 'load' });
  assert.deepEqual(requests, [pageUrl], 'the page is one document');
  requests.length = 0;
  const q = JSON.parse(await page.locator('#questionnaire').textContent());

  // A mistyped check character is caught on the page, before any code is made.
  const id = residentId('11010519900307123'); // a man born 1990-03-07
  const wrong = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
  await page.locator('#doc-number').fill(wrong);
  await page.waitForSelector(`#doc-number-message:has-text("应为 ${id[17]}")`);
  await page.locator('#doc-number').fill(id);
  assert.equal(await page.locator('#doc-number-message').textContent(), '');
  await page.locator('#doc-name').fill('李明');
  await page.locator('#doc-phone').fill('13800138000');
  // A resident ID carries sex and birth date: not asked.
  assert.equal(await page.locator('#row-doc-sex').isHidden(), true);
  assert.equal(await page.locator('#day').inputValue(), TODAY);

  // Questions for women are not shown to a man; a follow-up only once it applies.
  assert.equal(await page.locator('#q-pregnant').isHidden(), true);
  assert.equal(await page.locator('#q-tattoo_when').isHidden(), true);
  const answers = await answerAll(page, ['tattoo']);
  await page.locator('#q-tattoo_when').waitFor({ state: 'visible' });
  await page.locator('#q-tattoo_when .ago-n').fill('3');
  await page.locator('#q-tattoo_when .ago-unit').selectOption('months');
  answers.tattoo_when = { ago: 3, unit: 'months' };
  assert.equal('pregnant' in answers, false);
  await page.screenshot({ path: join(SHOTS, '01-filled.png'), fullPage: true });

  // The donor switches to English: the questionnaire's own English text, answers kept.
  await page.locator('#lang').selectOption('en');
  const tattoo = q.sections.flatMap((s) => s.questions).find((x) => x.id === 'tattoo');
  assert.equal(await page.locator('#q-tattoo .text').textContent(), tattoo.text.en);
  assert.equal(await page.locator('#q-tattoo input[value="true"]').isChecked(), true);
  assert.equal(await page.locator('#q-tattoo_when .ago-n').inputValue(), '3');
  await page.locator('#lang').selectOption('zh-CN');

  await page.locator('#generate').click();
  await page.locator('#qr-canvas').waitFor();
  assert.equal(await page.locator('#form-message').textContent(), '');
  assert.match(await page.locator('#result-note').textContent(), new RegExp(`只在 ${TODAY} 当天有效`));
  const summary = await page.locator('#summary').innerText();
  assert.match(summary, /3个月前/);
  assert.match(summary, new RegExp(id));
  const version = Number(await page.locator('#qr-canvas').getAttribute('data-version'));
  assert.ok(version >= 1 && version <= 25, `QR version ${version}`);
  await page.screenshot({ path: join(SHOTS, '02-code.png'), fullPage: true });

  // Photographed at the bus and read as the tablet reads it.
  const frame = join(SHOTS, '03-camera-frame.png');
  writeFileSync(frame, await cameraFrame(page));
  const got = read([frame, '--today', TODAY]);
  assert.equal(got.status, 0, got.stderr);
  assert.equal(got.json.questionnaire_version, q.version);
  assert.equal(got.json.valid_on, TODAY);
  assert.deepEqual(got.json.document, { kind: 'resident_id', number: id });
  assert.equal(got.json.name, '李明');
  assert.equal(got.json.sex, 'male');
  assert.equal(got.json.birth_date, '1990-03-07');
  assert.equal(got.json.phone, '13800138000');
  assert.deepEqual(got.json.answers, answers);

  // The answers are the questionnaire's own: the domain takes them as they are and the
  // tattoo defers the donor, nothing else does.
  const request = {
    date: TODAY,
    donor: { sex: got.json.sex, birth_date: got.json.birth_date },
    procedure: 'whole_blood',
    volume_ml: 400,
    vitals: { weight_kg: 65, systolic_mmhg: 120, diastolic_mmhg: 75, pulse_bpm: 72, temperature_c: 36.6 },
    tests: { hemoglobin_g_l: 140, alt_u_l: 20, hbsag: 'negative' },
    history: [],
    deferrals: [],
    questionnaire: { version: got.json.questionnaire_version, answers: got.json.answers },
  };
  const decided = spawnSync(CLI, ['eligibility', '--lang', 'en'], { input: JSON.stringify(request), encoding: 'utf8' });
  assert.equal(decided.status, 0, decided.stderr);
  const decision = JSON.parse(decided.stdout);
  assert.deepEqual(decision.reasons.map((r) => r.deferral_code), ['TATTOO'], decided.stdout);
  assert.ok(decision.eligible_from > TODAY, decided.stdout);

  // The next day the same code is refused, saying the day it was for.
  const late = read([frame, '--today', TOMORROW]);
  assert.equal(late.status, 1);
  assert.match(late.stderr, new RegExp(`只在 ${TODAY} 当天有效`));

  assert.deepEqual(requests, [], 'no request after the page loaded');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the page saved as one file works with the network off', async () => {
  const res = await fetch(`${url}/prefill`);
  assert.equal(res.status, 200);
  const saved = join(dir, 'prefill.html');
  writeFileSync(saved, await res.text());

  const { context, page, requests, errors } = await phone({ offline: true });
  const file = pathToFileURL(saved).href;
  await context.unroute('**/*');
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === file) return route.continue();
    requests.push(u);
    return route.abort();
  });
  await page.goto(file, { waitUntil: 'load' });
  await page.locator('#lang').selectOption('en');
  // A passport carries neither sex nor birth date: the page asks for both.
  await page.locator('#doc-kind').selectOption('passport');
  await page.locator('#row-doc-sex').waitFor({ state: 'visible' });
  await page.locator('#doc-number').fill('e12345678');
  await page.locator('#doc-name').fill('Anna Schmidt');
  await page.locator('#generate').click();
  assert.match(await page.locator('#form-message').textContent(), /choose your sex/);
  await page.locator('#doc-sex input[value="female"]').check();
  await page.locator('#doc-birth').fill('1992-04-30');
  // Questions for women now apply; unanswered questions are named and outlined.
  await page.locator('#q-pregnant').waitFor({ state: 'visible' });
  await page.locator('#generate').click();
  assert.match(await page.locator('#form-message').textContent(), /questions are not answered yet/);
  assert.equal(await page.locator('#q-pregnant.missing').count(), 1);
  const answers = await answerAll(page, []);
  await page.locator('#generate').click();
  await page.locator('#qr-canvas').waitFor();
  const qr = join(SHOTS, '04-saved-page-code.png');
  await page.locator('#qr-canvas').screenshot({ path: qr });
  await page.screenshot({ path: join(SHOTS, '04-saved-page.png'), fullPage: true });

  const got = read([qr, '--today', TODAY]);
  assert.equal(got.status, 0, got.stderr);
  assert.deepEqual(got.json.document, { kind: 'passport', number: 'E12345678' });
  assert.equal(got.json.sex, 'female');
  assert.equal(got.json.birth_date, '1992-04-30');
  assert.equal(got.json.phone, null);
  assert.deepEqual(got.json.answers, answers);
  assert.deepEqual(requests, [], 'the saved page asks for nothing');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the whole questionnaire answered at its largest fits one QR of version 25 or less', async () => {
  const pageUrl = `${url}/prefill`;
  const { context, page, requests, errors } = await phone({ allow: pageUrl });
  await page.goto(pageUrl, { waitUntil: 'load' });
  requests.length = 0;
  const q = JSON.parse(await page.locator('#questionnaire').textContent());
  // A woman with a passport: every question applies, sex and birth date travel too.
  await page.locator('#doc-kind').selectOption('passport');
  await page.locator('#doc-number').fill('E12345678');
  await page.locator('#doc-name').fill('欧阳明月');
  await page.locator('#doc-sex input[value="female"]').check();
  await page.locator('#doc-birth').fill('1990-05-01');
  await page.locator('#doc-phone').fill('13800138000');
  // "Yes" everywhere, so every follow-up applies; the longest option; a date as "how
  // long ago"; numbers at their maximum; free text at 40 Chinese characters.
  const text = '高血压，每天早上服用硝苯地平缓释片一片，已服用三年，血压控制在一百三十左右，无其他不适';
  const all = q.sections.flatMap((s) => s.questions);
  for (const question of all) {
    const row = page.locator(`#q-${question.id}`);
    await row.waitFor({ state: 'visible' });
    if (question.type === 'yes_no') await row.locator('input[value="true"]').check();
    if (question.type === 'choice') {
      const longest = question.options.map((o) => o.id).sort((a, b) => b.length - a.length)[0];
      await row.locator(`input[value="${longest}"]`).check();
    }
    if (question.type === 'date') await row.locator('.ago-n').fill('11');
    if (question.type === 'number') await row.locator('input').fill(String(question.max));
    if (question.type === 'text') await row.locator('input').fill(text.slice(0, question.max_length));
  }
  await page.locator('#generate').click();
  await page.locator('#qr-canvas').waitFor();
  const code = await page.locator('#qr-box').getAttribute('data-code');
  const version = Number(await page.locator('#qr-canvas').getAttribute('data-version'));
  const modules = Number(await page.locator('#qr-canvas').getAttribute('data-modules'));
  console.log(`page code for the whole questionnaire: ${code.length} characters, QR version ${version} (${modules}×${modules} modules) at level M`);
  assert.ok(version <= 25, `QR version ${version}`);
  // Kept as text too: crates/protocol/tests/fixtures/ holds one such code, which the
  // protocol's tests decode without a browser.
  writeFileSync(join(SHOTS, '05-everything-answered-code.txt'), code);
  await page.screenshot({ path: join(SHOTS, '05-everything-answered.png'), fullPage: true });

  const qr = join(SHOTS, '05-everything-answered-code.png');
  await page.locator('#qr-canvas').screenshot({ path: qr });
  const got = read([qr, '--today', TODAY]);
  assert.equal(got.status, 0, got.stderr);
  assert.equal(Object.keys(got.json.answers).length, all.length);
  assert.equal(got.json.answers.tattoo_when.ago, 11);
  assert.equal(read(['--text', code, '--today', TODAY]).json.name, '欧阳明月');
  assert.deepEqual(requests, []);
  assert.deepEqual(errors, []);
  await context.close();
});
