// Statistics: figures computed by the station (crate::statistics), drawn as plain SVG.
import { t, applyStatic, message } from '/desk/assets/i18n.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
let figures = null;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/// A site as the station names it; "" is a donation whose drive it never received.
function siteName(site) {
  return site || t('unknown_site');
}

/// A horizontal bar chart of `[label, value]` pairs.
function bars(title, rows, format = (v) => v) {
  const wrap = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = title;
  wrap.append(h);
  if (!rows.length) {
    const p = document.createElement('p');
    p.textContent = t('nothing');
    wrap.append(p);
    return wrap;
  }
  const rowH = 24;
  const width = 460;
  const labelW = 150;
  const max = Math.max(...rows.map(([, v]) => v), 1);
  const chart = svg('svg', { width, height: rows.length * rowH + 4, role: 'img', 'aria-label': title });
  rows.forEach(([label, value], i) => {
    const y = i * rowH + 2;
    const w = Math.max(1, ((width - labelW - 70) * value) / max);
    chart.append(svg('text', { x: 0, y: y + 16 }, label));
    chart.append(svg('rect', { x: labelW, y: y + 3, width: w, height: rowH - 8, fill: '#8b1a1a' }));
    chart.append(svg('text', { x: labelW + w + 6, y: y + 16 }, format(value)));
  });
  wrap.append(chart);
  return wrap;
}

const pct = (v) => `${(v * 100).toFixed(1)}%`;

function period(section, title, p) {
  const root = $(section);
  root.replaceChildren();
  const h = document.createElement('h2');
  h.textContent = `${title}（${p.from} – ${p.to}）`;
  root.append(h);
  const figs = document.createElement('div');
  figs.className = 'figures';
  const tile = (id, label, value) => {
    const d = document.createElement('div');
    d.className = 'tile';
    d.id = `${section}-${id}`;
    const n = document.createElement('span');
    n.className = 'n';
    n.textContent = value;
    d.append(n, label);
    return d;
  };
  figs.append(
    tile('donations', `${t('donations')}（${t('aborted')} ${p.aborted}）`, p.donations),
    tile('volume', `${t('volume')}（${t('ml')}）`, p.volume_ml),
    tile('deferral', `${t('deferral_rate')}（${p.deferred}/${p.screenings}：${t('temporary_deferrals')} ${p.deferred - p.permanent_exclusions}，${t('permanent_exclusions')} ${p.permanent_exclusions}）`, pct(p.deferral_rate)),
    tile('donors', t('donors'), p.donors),
  );
  root.append(figs);
  const charts = document.createElement('div');
  charts.className = 'charts';
  charts.append(
    bars(t('by_site'), p.by_site.map((s) => [siteName(s.site), s.donations])),
    bars(t('by_abo'), p.by_abo_rh.map((g) => [g.group === 'unknown' ? t('unknown') : g.group, g.donations])),
    bars(`${t('volume')}（${t('ml')}）· ${t('by_site')}`, p.by_site.map((s) => [siteName(s.site), s.volume_ml])),
    bars(`${t('deferral_rate')} / ${t('repeat_share')} / ${t('rural_share')}`, [
      [t('deferral_rate'), p.deferral_rate],
      [t('repeat_share'), p.repeat_share],
      [t('rural_share'), p.rural_share],
    ], pct),
  );
  root.append(charts);
}

function render() {
  applyStatic(render);
  if (!figures) return;
  period('today', t('today'), figures.today);
  period('year', t('this_year'), figures.year);
  $('unreadable').textContent = figures.unreadable ? t('unreadable', { n: figures.unreadable }) : '';
}

async function load() {
  const date = $('date').value;
  // The figures need a desk session: the token the desk page keeps for this tab.
  const token = sessionStorage.getItem('lifebridge.desk.token');
  const res = await fetch(`/desk/api/statistics${date ? `?date=${date}` : ''}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    $('message').textContent = message(data?.text ?? data?.message ?? String(res.status));
    $('message').className = 'message error';
    return;
  }
  figures = data;
  if (!date) $('date').value = data.date;
  $('message').textContent = '';
  render();
}

$('date').addEventListener('change', load);
applyStatic(render);
load();
