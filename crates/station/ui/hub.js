// The hub's status page: what the hub holds, what waits to go to the station, and the
// upstream link. Every figure comes from the hub (GET /hub/api/status); the page decides
// nothing. Switching the link is answered by the hub (it allows it from its own screen).
import { t, applyStatic } from '/desk/assets/i18n.js';

const $ = (id) => document.getElementById(id);
let last = null;

const when = (iso) => (iso ? new Date(iso).toLocaleString(document.documentElement.lang) : t('hub_never'));

function draw() {
  if (!last) return;
  const s = last;
  $('station').textContent = `${s.station_url} (${s.name})`;
  $('link-state').textContent = s.link.paused ? t('hub_link_off') : t('hub_link_on');
  $('link-state').className = s.link.paused ? 'warn' : '';
  $('switch').textContent = s.link.paused ? t('hub_switch_on') : t('hub_switch_off');
  $('contact').textContent = s.link.unreachable_since
    ? t('hub_unreachable_since', { time: when(s.link.unreachable_since) })
    : `${t('hub_last_contact')}: ${when(s.link.last_contact)}`;
  $('totals').textContent = t('hub_totals', { relayed: s.link.relayed, imported: s.link.imported });
  const body = $('tablets').querySelector('tbody');
  body.replaceChildren();
  if (!s.tablets.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 6;
    td.textContent = t('hub_no_tablets');
    tr.append(td);
    body.append(tr);
  }
  for (const tab of s.tablets) {
    const tr = document.createElement('tr');
    tr.dataset.device = tab.device_id;
    const note = tab.last_error
      ? t('hub_error', { why: tab.last_error })
      : tab.registered ? t('hub_registered') : t('hub_not_registered');
    for (const text of [tab.name, tab.held_seq, tab.relayed_seq, tab.waiting, when(tab.last_record_at), note]) {
      const td = document.createElement('td');
      td.textContent = String(text);
      tr.append(td);
    }
    body.append(tr);
  }
}

async function refresh() {
  try {
    const r = await fetch('/hub/api/status');
    if (!r.ok) throw new Error(`${r.status}`);
    last = await r.json();
    $('message').textContent = '';
    draw();
  } catch (e) {
    $('message').textContent = String(e);
  }
}

$('switch').addEventListener('click', async () => {
  if (!last) return;
  const r = await fetch('/hub/api/link', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ on: last.link.paused }),
  });
  $('message').textContent = r.status === 403 ? t('hub_switch_local') : r.ok ? '' : `${r.status}`;
  await refresh();
});

applyStatic(draw);
await refresh();
setInterval(refresh, 2000);
