// The receiving desk. It only displays: every figure and discrepancy comes from the
// station (lifebridge_domain::handoff::reconcile). Works with a hand scanner (keystrokes
// ending in Enter) and the keyboard alone: the scan field keeps the focus, Tab reaches
// the reasons and the signing form, Escape returns to the scan field.
import { t, lang, applyStatic, message } from '/desk/assets/i18n.js';

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem('lifebridge.desk.token'),
  staff: JSON.parse(sessionStorage.getItem('lifebridge.desk.staff') || 'null'),
  manifests: [],
  view: null,
  box: null,
  qrParts: [],
  reasons: {},
  boxReasons: {},
};

/// A refusal from the station: its catalogue message ({code, params}) in the page's
/// language, else whatever the answer says.
function refusal(r) {
  return message(r.data?.text ?? r.data?.message ?? String(r.status));
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.status === 401 && data?.error === 'unauthorized') signOut();
  return { ok: res.ok, status: res.status, data };
}

function say(id, text, ok = false) {
  const el = $(id);
  el.textContent = text;
  el.className = `message ${ok ? 'ok' : 'error'}`;
}

function signOut() {
  sessionStorage.removeItem('lifebridge.desk.token');
  sessionStorage.removeItem('lifebridge.desk.staff');
  sessionStorage.removeItem('lifebridge.desk.receipt');
  state.token = null;
  state.staff = null;
  render();
}

async function signIn(event) {
  event.preventDefault();
  const r = await api('POST', '/desk/api/sign-in', { name: $('signin-name').value, pin: $('signin-pin').value });
  $('signin-pin').value = '';
  if (!r.ok) return say('signin-message', refusal(r));
  state.token = r.data.token;
  state.staff = r.data.staff;
  sessionStorage.setItem('lifebridge.desk.token', state.token);
  sessionStorage.setItem('lifebridge.desk.staff', JSON.stringify(state.staff));
  say('signin-message', '', true);
  await loadManifests();
  render();
  $('scan').focus();
}

async function loadManifests() {
  const r = await api('GET', '/desk/api/manifests');
  if (r.ok) state.manifests = r.data;
}

async function receive(manifestId) {
  const r = await api('POST', '/desk/api/receipts', { manifest_ids: [manifestId] });
  if (!r.ok) return say('scan-message', refusal(r));
  const v = await api('GET', `/desk/api/receipts/${r.data.receipt_id}`);
  if (!v.ok) return say('scan-message', refusal(v));
  state.view = v.data;
  state.box = null;
  state.reasons = {};
  state.boxReasons = {};
  // A reload (or a browser crash) returns to the same receiving rather than orphaning it.
  sessionStorage.setItem('lifebridge.desk.receipt', v.data.receipt_id);
  render();
  $('scan').focus();
}

async function onScan(text) {
  text = text.trim();
  if (!text) return;
  if (text.startsWith('LBM')) {
    if (!state.qrParts.includes(text)) state.qrParts.push(text);
    const r = await api('POST', '/desk/api/manifests/qr', { parts: state.qrParts });
    if (r.ok) {
      state.qrParts = [];
      await loadManifests();
      render();
      const note = r.data.qr_matches === false ? ` — ${t('qr_differs')}` : '';
      return say('scan-message', `${t('qr_loaded')}: ${r.data.site_name}${note}`, r.data.qr_matches !== false);
    }
    if (r.data?.error === 'manifest_qr_incomplete') {
      return say('scan-message', t('qr_parts', { have: state.qrParts.length, missing: r.data.missing_parts.join(', ') }), true);
    }
    state.qrParts = [];
    return say('scan-message', refusal(r));
  }
  const view = state.view;
  if (view && view.boxes.some((b) => b.code === text)) {
    state.box = text;
    render();
    return say('scan-message', t('box_set', { box: text }), true);
  }
  if (!view) return say('scan-message', t('need_receipt'));
  const r = await api('POST', `/desk/api/receipts/${view.receipt_id}/scans`, { text, box_code: state.box });
  if (!r.ok) {
    // A typed DIN verifies nothing here: the manual-entry form is the way, so it gets
    // what was typed (the person still picks the label, reason and second person).
    if (r.data?.error === 'typed_not_scanned') $('manual-typed').value = text;
    return say('scan-message', refusal(r));
  }
  state.view = r.data;
  render();
  const last = [...r.data.reconciliation.lines].sort((a, b) => (b.scanned_at ?? '').localeCompare(a.scanned_at ?? ''))[0];
  say('scan-message', last ? `${last.din} ✓` : '', true);
}

async function sign(event) {
  event.preventDefault();
  const view = state.view;
  if (!view) return;
  const reasons = {};
  view.reconciliation.lines.forEach((line) => {
    const reason = (state.reasons[line.din] ?? '').trim();
    if (line.discrepancies.length && reason) reasons[line.din] = reason;
  });
  const boxReasons = {};
  view.reconciliation.box_excursions.forEach((b) => {
    const reason = (state.boxReasons[b.box_code] ?? '').trim();
    if (reason) boxReasons[b.box_code] = reason;
  });
  const r = await api('POST', `/desk/api/receipts/${view.receipt_id}/sign`, {
    receiver_pin: $('receiver-pin').value,
    driver_name: $('driver-name').value,
    driver_pin: $('driver-pin').value,
    reasons,
    box_reasons: boxReasons,
  });
  $('receiver-pin').value = '';
  $('driver-pin').value = '';
  if (!r.ok) {
    say('sign-message', refusal(r));
    if (r.data?.din) {
      const input = document.querySelector(`input.reason[data-din="${r.data.din}"]`);
      if (input) { input.classList.add('need'); input.focus(); }
    }
    if (r.data?.box_code) {
      const input = document.querySelector(`input.box-reason[data-box="${r.data.box_code}"]`);
      if (input) { input.classList.add('need'); input.focus(); }
    }
    return;
  }
  const v = await api('GET', `/desk/api/receipts/${view.receipt_id}`);
  if (v.ok) state.view = v.data;
  say('sign-message', '', true);
  render();
}

/// A label piece ({kind, piece}) named for the page's language.
function pieceName(p) {
  return t(`piece_${p.kind}`, { n: p.piece });
}

/// The labels the core reports typed instead of scanned on one line, or nothing.
function manualNote(line) {
  const parts = [];
  if (line.manual_labels?.length) parts.push(t('manual_before', { pieces: line.manual_labels.map(pieceName).join(lang() === 'en' ? ', ' : '、') }));
  for (const m of line.manual_at_desk ?? []) {
    parts.push(t('manual_at_desk', { piece: pieceName(m.piece), who: m.authorised_by.name, reason: m.reason }));
  }
  if (!parts.length) return '';
  return el('span', { class: 'manual', 'data-manual': parts.length }, `${t('manual_mark')}: ${parts.join(lang() === 'en' ? '; ' : '；')}`);
}

async function manualEntry(event) {
  event.preventDefault();
  const view = state.view;
  if (!view) return say('manual-message', t('need_receipt'));
  const [kind, piece] = $('manual-piece').value.split(':');
  const r = await api('POST', `/desk/api/receipts/${view.receipt_id}/manual`, {
    piece: { kind, piece: Number(piece) },
    typed: $('manual-typed').value,
    reason: $('manual-reason').value,
    witness_name: $('manual-witness').value,
    witness_pin: $('manual-witness-pin').value,
    box_code: state.box,
  });
  $('manual-witness-pin').value = '';
  if (!r.ok) return say('manual-message', refusal(r));
  const typed = $('manual-typed').value.trim();
  const who = $('manual-witness').value.trim();
  $('manual-typed').value = '';
  $('manual-reason').value = '';
  state.view = r.data;
  render();
  say('scan-message', '', true);
  say('manual-message', t('manual_done', { din: typed, piece: pieceName({ kind, piece }), who }), true);
  $('scan').focus();
}

/// The labels the manual form offers: the bag, and each sample tube the loaded
/// manifests list (the station refuses any other).
function renderManualPieces(view) {
  const select = $('manual-piece');
  const keep = select.value;
  const tubes = new Set();
  for (const line of view.reconciliation.lines) for (const p of line.tubes) tubes.add(p.piece);
  const options = [{ kind: 'bag', piece: 1 }, ...[...tubes].sort((a, b) => a - b).map((n) => ({ kind: 'tube', piece: n }))];
  select.replaceChildren(...options.map((p) => el('option', { value: `${p.kind}:${p.piece}` }, pieceName(p))));
  if (options.some((p) => `${p.kind}:${p.piece}` === keep)) select.value = keep;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

function renderManifests() {
  const box = $('manifests');
  box.replaceChildren();
  if (!state.manifests.length) return box.append(el('p', {}, t('no_manifests')));
  const rows = state.manifests.map((m) => {
    const source = [m.replicated ? t('replicated') : null, m.by_qr ? t('by_qr') : null].filter(Boolean).join(' + ');
    const check = m.qr_matches === true ? el('span', { class: 'ok' }, ` ✓ ${t('qr_same')}`)
      : m.qr_matches === false ? el('span', { class: 'warn' }, ` ✗ ${t('qr_differs')}`) : '';
    return el('tr', { id: `manifest-${m.manifest_id}` },
      el('td', {}, m.site_name), el('td', {}, m.vehicle ?? ''), el('td', {}, m.driver),
      el('td', {}, new Date(m.dispatched_at).toLocaleString(lang())), el('td', {}, m.boxes), el('td', {}, m.bags),
      el('td', {}, source, check),
      el('td', {}, el('button', { type: 'button', class: 'receive', 'data-manifest': m.manifest_id, onclick: () => receive(m.manifest_id) }, t('receive'))));
  });
  box.append(el('table', {},
    el('thead', {}, el('tr', {}, ...['site', 'vehicle', 'driver', 'dispatched', 'boxes', 'bags', 'source', ''].map((k) => el('th', {}, k ? t(k) : '')))),
    el('tbody', {}, ...rows)));
}

const TILES = ['expected', 'received', 'missing', 'extra', 'wrong_box', 'excursion', 'over_time_limit', 'tubes_missing', 'downgraded', 'quarantined'];

function renderReceipt() {
  const view = state.view;
  const show = Boolean(view);
  $('receipt-section').classList.toggle('hidden', !show);
  $('lines-section').classList.toggle('hidden', !show);
  $('boxes-section').classList.toggle('hidden', !show || !view.reconciliation.box_excursions.length);
  $('sign-section').classList.toggle('hidden', !show || Boolean(view?.signed));
  $('manual-section').classList.toggle('hidden', !show || Boolean(view?.signed));
  $('current-box').textContent = state.box ?? t('no_box');
  if (!view) return;
  renderManualPieces(view);
  const head = $('receipt-head');
  head.replaceChildren(...view.manifests.map((m) => el('h2', {}, `${m.site_name} · ${m.vehicle ?? ''} · ${t('driver')} ${m.driver}`)));
  head.append(el('p', {}, view.boxes.map((b) => `${b.code} ${message({ code: `product_class.${b.class}` })} ${b.range}`).join('　')));
  if (view.signed) {
    const s = view.signed;
    head.append(el('p', { class: 'signed', id: 'signed' }, `${t('signed')} ✓ `,
      t('signed_detail', { at: new Date(s.signed_at).toLocaleString(lang()), receiver: s.receiver.name, driver: s.driver.name, n: s.discrepancies.length })));
    // Labels typed instead of scanned, as the signed record lists them.
    for (const m of s.manual_labels ?? []) {
      const parts = [];
      if (m.before_dispatch?.length) parts.push(t('manual_before', { pieces: m.before_dispatch.map(pieceName).join(lang() === 'en' ? ', ' : '、') }));
      for (const d of m.at_desk ?? []) parts.push(t('manual_at_desk', { piece: pieceName(d.piece), who: d.authorised_by.name, reason: d.reason }));
      head.append(el('p', { class: 'manual signed-manual', 'data-din': m.din }, `${t('manual_mark')} ${m.din}: ${parts.join(lang() === 'en' ? '; ' : '；')}`));
    }
  }
  const tally = view.reconciliation.tally;
  // One decision per box that left its range (never one reason per bag).
  $('box-decisions').replaceChildren(...view.reconciliation.box_excursions.map((b, i) => {
    const cell = el('span', { class: 'decision' });
    if (view.signed) {
      const decided = (view.signed.box_decisions ?? []).find((d) => d.excursion.box_code === b.box_code);
      cell.append(decided ? t('box_decided', { box: b.box_code, reason: decided.reason }) : '');
    } else {
      const input = el('input', {
        class: 'box-reason', 'data-box': b.box_code, placeholder: t('box_reason_placeholder'), 'aria-label': `${t('reason')} ${b.box_code}`,
        oninput: (e) => { state.boxReasons[b.box_code] = e.target.value; },
      });
      input.value = state.boxReasons[b.box_code] ?? '';
      cell.append(input);
    }
    return el('div', { class: 'box-decision', id: `box-${b.box_code}`, 'data-box': b.box_code, 'data-bags': b.bags.length },
      el('span', { class: 'warn' }, message(view.box_descriptions[i])), cell);
  }));
  $('tiles').replaceChildren(...TILES.map((k) => {
    const n = tally[k] ?? 0;
    const kind = k === 'expected' || k === 'received' ? '' : n > 0 ? 'bad' : 'good';
    return el('div', { class: `tile ${kind}`, id: `tile-${k}` }, el('span', { class: 'n' }, n), t(k));
  }));
  const lines = view.reconciliation.lines.map((line, i) => {
    const flagged = line.discrepancies.length > 0;
    const reasonCell = el('td', { class: 'reason' });
    if (flagged && !view.signed) {
      const input = el('input', {
        class: 'reason', 'data-din': line.din, placeholder: t('reason_placeholder'), 'aria-label': `${t('reason')} ${line.din}`,
        oninput: (e) => { state.reasons[line.din] = e.target.value; },
      });
      input.value = state.reasons[line.din] ?? '';
      reasonCell.append(input);
    } else if (view.signed) {
      const signed = view.signed.discrepancies.find((d) => d.din === line.din);
      reasonCell.append(signed ? signed.reason : '');
    }
    const unit = line.unit.status;
    const tubes = line.tubes.length ? `${line.tubes_received.filter((p) => line.tubes.some((q) => q.kind === p.kind && q.piece === p.piece)).length}/${line.tubes.length}` : '';
    return el('tr', { id: `line-${line.din}`, class: `${line.status} ${flagged ? 'flagged' : ''}`, 'data-status': line.status, 'data-unit': unit },
      el('td', {}, line.din, manualNote(line)), el('td', {}, t(`status_${line.status}`)), el('td', {}, line.manifest_box ?? ''),
      el('td', {}, line.found_box ?? ''), el('td', { class: 'tubes' }, tubes),
      // A bag not received has no status here: it is a discrepancy of its own.
      el('td', { class: `unit unit-${unit}` }, line.status !== 'received' ? '' : unit === 'suitable' ? t('unit_suitable') : message(view.unit_descriptions[i])),
      el('td', { class: 'discrepancy' }, view.descriptions[i].map((d) => message(d)).join(lang() === 'en' ? '; ' : '；')), reasonCell);
  });
  // Lines with discrepancies first, so nothing to explain hides below forty good bags.
  const rank = (row) => (row.classList.contains('flagged') ? 2 : 0) + (row.dataset.unit !== 'suitable' ? 1 : 0);
  lines.sort((a, b) => rank(b) - rank(a));
  $('lines').replaceChildren(...lines);
}

function render() {
  applyStatic(render);
  const signedIn = Boolean(state.token);
  $('signin').classList.toggle('hidden', signedIn);
  $('work').classList.toggle('hidden', !signedIn);
  $('who').textContent = signedIn && state.staff ? `${t('signed_in_as')}${state.staff.name}` : '';
  if (!signedIn) return;
  renderManifests();
  renderReceipt();
}

$('signin-form').addEventListener('submit', signIn);
$('sign-form').addEventListener('submit', sign);
$('manual-form').addEventListener('submit', manualEntry);
// A hand scanner can deliver the next bag before the station answered the last one:
// scans are sent one after the other, so every answer includes all earlier scans.
// The scan field's `data-pending` counts scans not answered yet (0 when the screen shows
// every scan made), so whoever reads the tiles knows they are final.
let scanQueue = Promise.resolve();
let pendingScans = 0;
const setPending = (n) => { pendingScans = n; $('scan').dataset.pending = String(n); };
setPending(0);
$('scan').addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  const text = e.target.value;
  e.target.value = '';
  setPending(pendingScans + 1);
  scanQueue = scanQueue
    .then(() => onScan(text))
    .catch((err) => say('scan-message', String(err)))
    .finally(() => setPending(pendingScans - 1));
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') $('scan').focus();
});

(async () => {
  if (state.token) await loadManifests();
  const open = sessionStorage.getItem('lifebridge.desk.receipt');
  if (state.token && open) {
    const v = await api('GET', `/desk/api/receipts/${open}`);
    if (v.ok && !v.data.signed) state.view = v.data;
    else sessionStorage.removeItem('lifebridge.desk.receipt');
  }
  render();
  (state.token ? $('scan') : $('signin-name')).focus();
})();
