// The donor's pre-fill page (/prefill, docs/prefill.md). The station inlines this file,
// the QR encoder (vendor/qrcode.js), the current questionnaire and the messages below
// into one HTML document, so a saved copy works offline. The page renders whatever
// questionnaire it carries (no question text here) and makes no network request: the
// answers stay on the phone, in the QR `LBQ1:` + base45(raw DEFLATE(JSON)) that
// lifebridge_protocol::prefill_code reads at the bus.
'use strict';

(function () {
  const Q = JSON.parse(document.getElementById('questionnaire').textContent);
  // Catalogue entries `prefill_page.*` (crates/domain/messages/catalogue.json).
  const MESSAGES = JSON.parse(document.getElementById('messages').textContent);

  // The page's own labels; refusals come from the catalogue.
  const STRINGS = {
    'zh-CN': {
      heading: '献血前预填',
      lang: '语言',
      how: '在手机上填写证件信息和健康征询表，生成一个二维码，来献血时出示给工作人员扫描即可。本页面不会把任何内容发送出去：二维码只保存在这部手机上。也可以“保存网页”，之后不联网也能使用。',
      you: '您的证件和信息',
      kind: '证件类型',
      kind_resident_id: '居民身份证',
      kind_passport: '护照',
      kind_hk_macao_permit: '港澳居民来往内地通行证',
      kind_taiwan_permit: '台湾居民来往大陆通行证',
      kind_foreigner_permanent_residence: '外国人永久居留身份证',
      number: '证件号码',
      name: '姓名',
      sex: '性别',
      male: '男',
      female: '女',
      birth_date: '出生日期',
      phone: '手机号码（可不填）',
      day: '您打算哪天来献血',
      day_note: '二维码只在这一天有效。',
      questions: '健康征询',
      yes: '是',
      no: '否',
      on_date: '日期',
      or_ago: '或：多久以前',
      days: '天前',
      weeks: '周前',
      months: '个月前',
      years: '年前',
      generate: '生成二维码',
      edit: '修改',
      result: '您的预填二维码',
      result_note: '请在 {day} 来献血时出示此二维码。它只保存在这部手机上，只在 {day} 当天有效；工作人员扫描后会和您逐项核对。',
      holds: '二维码中包含：',
      version: '征询表版本',
      ago_text: '{n}{unit}',
      not_given: '未填写',
    },
    en: {
      heading: 'Pre-fill before donating',
      lang: 'Language',
      how: 'Fill in your identity document and the health questionnaire on your phone and get a QR code; show it when you come to donate and the staff scan it. This page sends nothing anywhere: the code stays on this phone. You can also save this page and use it later without a network.',
      you: 'Your document and details',
      kind: 'Identity document',
      kind_resident_id: 'Resident identity card',
      kind_passport: 'Passport',
      kind_hk_macao_permit: 'Hong Kong/Macao permit',
      kind_taiwan_permit: 'Taiwan permit',
      kind_foreigner_permanent_residence: "Foreigner's permanent residence card",
      number: 'Document number',
      name: 'Name',
      sex: 'Sex',
      male: 'Male',
      female: 'Female',
      birth_date: 'Date of birth',
      phone: 'Mobile phone (optional)',
      day: 'The day you plan to donate',
      day_note: 'The code is valid on that day only.',
      questions: 'Health questions',
      yes: 'Yes',
      no: 'No',
      on_date: 'Date',
      or_ago: 'or: how long ago',
      days: 'days ago',
      weeks: 'weeks ago',
      months: 'months ago',
      years: 'years ago',
      generate: 'Make my QR code',
      edit: 'Change',
      result: 'Your pre-fill QR code',
      result_note: 'Show this code when you come to donate on {day}. It is only on this phone and valid on {day} only; the staff go through each answer with you after scanning it.',
      holds: 'The code holds:',
      version: 'Questionnaire version',
      ago_text: '{n} {unit}',
      not_given: 'not given',
    },
  };
  const KINDS = ['resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit', 'foreigner_permanent_residence'];
  const UNITS = ['days', 'weeks', 'months', 'years'];
  // How far ahead a donor may choose their day.
  const MAX_DAYS_AHEAD = 30;

  let lang = /^en/i.test(navigator.language || '') ? 'en' : 'zh-CN';
  const state = {
    kind: 'resident_id', number: '', name: '', sex: '', birth: '', phone: '', day: isoDay(new Date()),
    // Drafts per question id: yes_no/choice: the value; date: {date, ago, unit}; number/text: the text.
    answers: {},
  };

  function t(key, params) {
    const s = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS['zh-CN'][key] || key;
    return fill(s, params);
  }
  function fill(s, params) {
    return s.replace(/\{(\w+)\}/g, (m, k) => (params && k in params ? String(params[k]) : m));
  }
  function message(code, params) {
    const entry = MESSAGES[code];
    return entry ? fill(entry[lang] || entry['zh-CN'], params) : code;
  }
  function local(text) {
    return text ? (lang === 'en' ? text.en : text.zh) : '';
  }
  function isoDay(d) {
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  }
  function addDays(iso, n) {
    const [y, m, d] = iso.split('-').map(Number);
    return isoDay(new Date(y, m - 1, d + n));
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  // ---- identity documents -------------------------------------------------------------
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECK = '10X98765432';

  // GB 11643: the same rule as lifebridge_domain::resident_id, for an early friendly
  // message; the tablet's decode is the authoritative check.
  function residentIdProblem(raw, today) {
    const n = raw.trim().toUpperCase();
    if (!/^[0-9]{17}[0-9X]$/.test(n)) return message('prefill_page.resident_id_form', { length: n.length });
    const y = Number(n.slice(6, 10)), m = Number(n.slice(10, 12)), d = Number(n.slice(12, 14));
    const born = new Date(y, m - 1, d);
    const iso = `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`;
    if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || y < 1900 || iso > today) {
      return message('prefill_page.resident_id_birth_date', { digits: n.slice(6, 14) });
    }
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(n[i]) * WEIGHTS[i];
    const expected = CHECK[sum % 11];
    if (n[17] !== expected) return message('prefill_page.resident_id_check', { expected, found: n[17] });
    return null;
  }
  function residentSex(n) {
    return Number(n.trim()[16]) % 2 === 1 ? 'male' : 'female';
  }
  function residentBirth(n) {
    const s = n.trim();
    return `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`;
  }
  /// The donor's sex as the page knows it: from a valid resident ID, else as chosen.
  function donorSex() {
    if (state.kind === 'resident_id') {
      return residentIdProblem(state.number, isoDay(new Date())) ? '' : residentSex(state.number);
    }
    return state.sex;
  }

  // ---- questions ----------------------------------------------------------------------
  const questions = Q.sections.flatMap((s) => s.questions);
  const byId = Object.fromEntries(questions.map((q) => [q.id, q]));

  /// The answer a draft gives, as the contract writes it, or undefined.
  function answerOf(q) {
    const v = state.answers[q.id];
    if (v === undefined || v === '') return undefined;
    switch (q.type) {
      case 'yes_no': return v === 'true' ? true : v === 'false' ? false : undefined;
      case 'choice': return v;
      case 'number': {
        const n = Number(v);
        return v.trim() === '' || !Number.isFinite(n) ? undefined : n;
      }
      case 'text': return v.trim() === '' ? undefined : v.trim();
      case 'date':
        if (v.ago !== undefined && v.ago !== '') {
          const n = Number(v.ago);
          return Number.isInteger(n) && n >= 0 ? { ago: n, unit: v.unit || 'months' } : undefined;
        }
        return v.date ? v.date : undefined;
      default: return undefined;
    }
  }
  /// A question applies when its sex (if any) is the donor's and its `when` holds,
  /// which needs the question it depends on to apply too.
  function applies(q) {
    if (q.sex && q.sex !== donorSex()) return false;
    if (!q.when) return true;
    const parent = byId[q.when.question];
    return !!parent && applies(parent) && answerOf(parent) === q.when.is;
  }
  function collectAnswers() {
    const out = {};
    for (const q of questions) {
      if (!applies(q)) continue;
      const a = answerOf(q);
      if (a !== undefined) out[q.id] = a;
    }
    return out;
  }

  // ---- the form -----------------------------------------------------------------------
  const app = document.getElementById('app');

  function render() {
    document.documentElement.lang = lang;
    document.title = `${t('heading')} · ${local(Q.title)}`;
    app.replaceChildren(
      el('header', {},
        el('h1', { text: t('heading') }),
        el('label', {}, el('span', { text: `${t('lang')} ` }),
          langSelect())),
      el('p', { class: 'intro', text: t('how') }),
      identity(),
      el('h2', { text: `${local(Q.title)}` }),
      Q.intro ? el('p', { class: 'intro', text: local(Q.intro) }) : null,
      ...Q.sections.map(section),
      el('p', { id: 'form-message', class: 'error', role: 'alert' }),
      el('button', { id: 'generate', type: 'button', text: t('generate'), onclick: generate }),
      el('section', { id: 'result', hidden: true }),
    );
    refresh();
  }

  function langSelect() {
    const s = el('select', { id: 'lang', onchange: (e) => { lang = e.target.value; render(); } },
      el('option', { value: 'zh-CN', text: '中文' }), el('option', { value: 'en', text: 'English' }));
    s.value = lang;
    return s;
  }

  function field(id, label, input, extra) {
    return el('div', { class: 'row', id: `row-${id}` }, el('label', { class: 'text', for: id, text: label }), input, extra);
  }
  function bound(input, key) {
    input.value = state[key];
    input.addEventListener('input', () => { state[key] = input.value; refresh(); });
    input.addEventListener('change', () => { state[key] = input.value; refresh(); });
    return input;
  }

  function identity() {
    const today = isoDay(new Date());
    const kind = el('select', { id: 'doc-kind' }, ...KINDS.map((k) => el('option', { value: k, text: t(`kind_${k}`) })));
    const sexChoices = el('div', { class: 'choices', id: 'doc-sex' },
      ...['male', 'female'].map((s) => el('label', {}, el('input', {
        type: 'radio', name: 'doc-sex', value: s, checked: state.sex === s,
        onchange: () => { state.sex = s; refresh(); },
      }), el('span', { text: t(s) }))));
    return el('fieldset', { id: 'identity' },
      el('h2', { text: t('you') }),
      field('doc-kind', t('kind'), bound(kind, 'kind')),
      field('doc-number', t('number'), bound(el('input', { id: 'doc-number', type: 'text', autocomplete: 'off', maxlength: 32, spellcheck: 'false' }), 'number'),
        el('p', { id: 'doc-number-message', class: 'error', role: 'alert' })),
      field('doc-name', t('name'), bound(el('input', { id: 'doc-name', type: 'text', autocomplete: 'name', maxlength: 64 }), 'name')),
      el('div', { class: 'row', id: 'row-doc-sex' }, el('span', { class: 'text', text: t('sex') }), sexChoices),
      field('doc-birth', t('birth_date'), bound(el('input', { id: 'doc-birth', type: 'date', max: today }), 'birth')),
      field('doc-phone', t('phone'), bound(el('input', { id: 'doc-phone', type: 'tel', autocomplete: 'tel', maxlength: 20 }), 'phone')),
      field('day', t('day'), bound(el('input', { id: 'day', type: 'date', min: today, max: addDays(today, MAX_DAYS_AHEAD) }), 'day'),
        el('p', { class: 'note', text: t('day_note') })),
    );
  }

  function section(s) {
    return el('fieldset', { id: `section-${s.id}` },
      el('h2', { text: local(s.title) }),
      ...s.questions.map(question));
  }

  function setAnswer(id, value) {
    state.answers[id] = value;
    refresh();
  }

  function radios(q, options) {
    const current = state.answers[q.id];
    return el('div', { class: `choices${options.length > 2 ? ' column' : ''}` },
      ...options.map(([value, label]) => el('label', {},
        el('input', { type: 'radio', name: `q-${q.id}`, value, checked: current === value, onchange: () => setAnswer(q.id, value) }),
        el('span', { text: label }))));
  }

  function question(q) {
    const row = el('div', { class: `row${q.when ? ' followup' : ''}`, id: `q-${q.id}`, 'data-type': q.type },
      el('span', { class: 'text', text: local(q.text) }));
    switch (q.type) {
      case 'yes_no':
        row.append(radios(q, [['true', t('yes')], ['false', t('no')]]));
        break;
      case 'choice':
        row.append(radios(q, q.options.map((o) => [o.id, local(o.text)])));
        break;
      case 'number': {
        const input = el('input', { type: 'number', inputmode: 'decimal', min: q.min, max: q.max, step: 'any' });
        input.value = state.answers[q.id] || '';
        input.addEventListener('input', () => setAnswer(q.id, input.value));
        row.append(el('div', { class: 'ago' }, input, q.unit ? el('span', { text: local(q.unit) }) : null));
        break;
      }
      case 'text': {
        const input = el('input', { type: 'text', maxlength: q.max_length });
        input.value = state.answers[q.id] || '';
        input.addEventListener('input', () => setAnswer(q.id, input.value));
        row.append(input);
        break;
      }
      case 'date': {
        const draft = state.answers[q.id] || { date: '', ago: '', unit: 'months' };
        state.answers[q.id] = draft;
        const date = el('input', { type: 'date', class: 'on-date', max: isoDay(new Date()), 'aria-label': t('on_date') });
        date.value = draft.date;
        const ago = el('input', { type: 'number', class: 'ago-n', inputmode: 'numeric', min: 0, step: 1, 'aria-label': t('or_ago') });
        ago.value = draft.ago;
        const unit = el('select', { class: 'ago-unit' }, ...UNITS.map((u) => el('option', { value: u, text: t(u) })));
        unit.value = draft.unit;
        // One or the other: a date typed clears "how long ago", and the other way round.
        date.addEventListener('input', () => { draft.date = date.value; if (date.value) { draft.ago = ''; ago.value = ''; } refresh(); });
        ago.addEventListener('input', () => { draft.ago = ago.value; if (ago.value) { draft.date = ''; date.value = ''; } refresh(); });
        unit.addEventListener('change', () => { draft.unit = unit.value; refresh(); });
        row.append(el('div', { class: 'date-or-ago' },
          el('label', {}, el('span', { text: `${t('on_date')} ` }), date),
          el('div', { class: 'ago' }, el('span', { text: t('or_ago') }), ago, unit)));
        break;
      }
      default:
        break;
    }
    return row;
  }

  /// Shows what applies now: the document's own fields, follow-ups whose `when` holds,
  /// questions for the donor's sex.
  function refresh() {
    const resident = state.kind === 'resident_id';
    for (const id of ['row-doc-sex', 'row-doc-birth']) {
      const row = document.getElementById(id);
      if (row) row.hidden = resident;
    }
    const numberMessage = document.getElementById('doc-number-message');
    if (numberMessage) {
      const n = state.number.trim();
      numberMessage.textContent = resident && n.length >= 18 ? residentIdProblem(n, isoDay(new Date())) || '' : '';
    }
    for (const q of questions) {
      const row = document.getElementById(`q-${q.id}`);
      if (row) row.hidden = !applies(q);
    }
  }

  // ---- the code -----------------------------------------------------------------------
  function problems() {
    const out = [];
    const today = isoDay(new Date());
    const number = state.number.trim().toUpperCase();
    if (state.kind === 'resident_id') {
      const p = residentIdProblem(number, today);
      if (p) out.push(p);
    } else if (!/^[A-Z0-9][A-Z0-9-]{0,31}$/.test(number)) {
      out.push(message('prefill_page.document_number'));
    }
    const name = state.name.trim();
    if (!name || [...name].length > 64) out.push(message('prefill_page.name'));
    if (state.kind !== 'resident_id' && (!state.sex || !state.birth || state.birth > today)) {
      out.push(message('prefill_page.sex_and_birth_date'));
    }
    if (state.phone.trim() && !/^[0-9+\- ]{1,20}$/.test(state.phone.trim())) out.push(message('prefill_page.phone'));
    const last = addDays(today, MAX_DAYS_AHEAD);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(state.day) || state.day < today || state.day > last) {
      out.push(message('prefill_page.day', { first: today, last }));
    }
    const unanswered = [];
    for (const q of questions) {
      const row = document.getElementById(`q-${q.id}`);
      // Free text may stay empty ("none"); every other question that applies needs an answer.
      const missing = applies(q) && q.type !== 'text' && answerOf(q) === undefined;
      const bad = applies(q) && q.type === 'number' && answerOf(q) !== undefined && (answerOf(q) < q.min || answerOf(q) > q.max);
      if (row) row.classList.toggle('missing', missing || bad);
      if (missing) unanswered.push(local(q.text));
      if (bad) out.push(message('prefill_page.number_range', { question: local(q.text), min: q.min, max: q.max }));
    }
    if (unanswered.length) {
      out.push(message('prefill_page.unanswered', { count: unanswered.length, first: unanswered[0] }));
    }
    return out;
  }

  /// The JSON the code holds (the contract's short keys, in its order).
  function payload() {
    const resident = state.kind === 'resident_id';
    const i = { t: state.kind, n: state.number.trim().toUpperCase(), m: state.name.trim() };
    if (!resident) {
      i.s = state.sex;
      i.b = state.birth;
    }
    const out = { q: Q.version, d: state.day, i };
    if (state.phone.trim()) out.p = state.phone.trim();
    out.a = collectAnswers();
    return out;
  }

  const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  /// base45 (RFC 9285), as lifebridge_protocol::base45::encode.
  function base45(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length; i += 2) {
      if (i + 1 < bytes.length) {
        let n = bytes[i] * 256 + bytes[i + 1];
        for (let k = 0; k < 3; k++) { out += B45[n % 45]; n = Math.floor(n / 45); }
      } else {
        const n = bytes[i];
        out += B45[n % 45] + B45[Math.floor(n / 45)];
      }
    }
    return out;
  }

  async function deflateRaw(text) {
    const stream = new Blob([new TextEncoder().encode(text)]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  function drawQr(text) {
    const qr = qrcode(0, 'M');
    qr.addData(text, 'Alphanumeric');
    qr.make();
    const count = qr.getModuleCount();
    const quiet = 4;
    // Whole pixels per module, as large as a phone screen allows.
    const scale = Math.max(2, Math.floor(Math.min(560, window.innerWidth - 56) / (count + 2 * quiet)));
    const canvas = el('canvas', { id: 'qr-canvas', 'data-modules': count, 'data-version': (count - 17) / 4 });
    canvas.width = canvas.height = (count + 2 * quiet) * scale;
    const g = canvas.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#000';
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < count; c++) {
        if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
      }
    }
    return canvas;
  }

  function shown(q, a) {
    if (a === true) return t('yes');
    if (a === false) return t('no');
    if (q.type === 'choice') return local((q.options.find((o) => o.id === a) || {}).text) || a;
    if (q.type === 'number') return q.unit ? `${a} ${local(q.unit)}` : String(a);
    if (a && typeof a === 'object') return t('ago_text', { n: a.ago, unit: t(a.unit) });
    return String(a);
  }

  async function generate() {
    const messageEl = document.getElementById('form-message');
    const result = document.getElementById('result');
    result.hidden = true;
    const found = problems();
    messageEl.textContent = found.join(' ');
    if (found.length) return;
    if (typeof CompressionStream !== 'function') {
      messageEl.textContent = message('prefill_page.no_compression');
      return;
    }
    const data = payload();
    const code = `LBQ1:${base45(await deflateRaw(JSON.stringify(data)))}`;
    let canvas;
    try {
      canvas = drawQr(code);
    } catch (e) {
      messageEl.textContent = message('prefill_page.too_large', { chars: code.length });
      return;
    }
    const resident = data.i.t === 'resident_id';
    const rows = [
      [t('kind'), t(`kind_${data.i.t}`)],
      [t('number'), data.i.n],
      [t('name'), data.i.m],
      [t('sex'), t(resident ? residentSex(data.i.n) : data.i.s)],
      [t('birth_date'), resident ? residentBirth(data.i.n) : data.i.b],
      [t('phone'), data.p || t('not_given')],
      [t('day'), data.d],
      [t('version'), data.q],
      ...Object.entries(data.a).map(([id, a]) => [local(byId[id].text), shown(byId[id], a)]),
    ];
    result.replaceChildren(
      el('h2', { text: t('result') }),
      el('p', { class: 'note', id: 'result-note', text: t('result_note', { day: data.d }) }),
      el('div', { id: 'qr-box', 'data-code': code }, canvas),
      el('p', { text: t('holds') }),
      el('dl', { id: 'summary' }, ...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])),
      el('button', { type: 'button', class: 'secondary', text: t('edit'), onclick: () => document.getElementById('identity').scrollIntoView() }),
    );
    result.hidden = false;
    result.scrollIntoView();
  }

  render();
})();
