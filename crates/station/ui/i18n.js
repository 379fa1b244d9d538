// Lifebridge station pages: zh-CN first, English selectable. Every user-facing string
// of the desk and statistics pages is here; server messages arrive as a catalogue code
// with parameters ({code, params}) and are rendered from the station's copy of the one
// catalogue (crates/domain/messages/catalogue.json, served as messages.json), with the
// same rules as lifebridge_domain::messages::render.
const STRINGS = {
  'zh-CN': {
    desk_title: '接收台 · 血液交接',
    stats_title: '采供血统计',
    lang: '语言',
    sign_in: '登录',
    name: '姓名',
    pin: 'PIN',
    signed_in_as: '当前接收人员：',
    sign_out: '退出',
    scan: '扫描',
    scan_hint: '用扫描枪扫描：清单二维码、箱号或血袋标签（回车结束）',
    manifests: '运输清单',
    no_manifests: '暂无清单。等待车辆同步，或扫描清单二维码。',
    site: '地点',
    vehicle: '车辆',
    driver: '司机',
    dispatched: '发车时间',
    boxes: '箱数',
    bags: '袋数',
    source: '来源',
    replicated: '已同步',
    by_qr: '二维码',
    qr_same: '二维码与同步一致',
    qr_differs: '二维码与同步不一致！',
    receive: '开始接收',
    qr_parts: '清单二维码：已扫 {have} 部分，还缺第 {missing} 部分',
    qr_loaded: '已从二维码载入清单',
    current_box: '当前箱：',
    no_box: '（未扫箱号）',
    received: '已接收',
    missing: '缺失',
    extra: '多出',
    wrong_box: '装错箱',
    excursion: '温度超范围',
    over_time_limit: '超出时限',
    tubes_missing: '缺标本管',
    downgraded: '降级',
    quarantined: '隔离',
    unit: '血液状态',
    unit_suitable: '合格',
    unit_downgraded: '降级',
    unit_quarantined: '隔离',
    tubes: '标本管',
    box_decisions: '温度超范围的箱：每箱一次处理说明',
    box_reason_placeholder: '整箱的处理说明',
    expected: '清单袋数',
    din: '献血编码',
    status: '状态',
    manifest_box: '清单箱号',
    found_box: '实际箱号',
    discrepancy: '差异',
    reason: '原因',
    reason_placeholder: '填写原因',
    status_received: '已接收',
    status_missing: '缺失',
    status_extra: '多出',
    sign_title: '双方签收',
    receiver_pin: '接收人 PIN',
    driver_name: '司机姓名',
    driver_pin: '司机 PIN',
    sign: '签收',
    signed: '已签收',
    signed_detail: '{at}，接收人 {receiver}，司机 {driver}；差异 {n} 项。结果将在车辆下次同步时送达。',
    manual_title: '手工录入（标签无法扫描时）',
    manual_hint: '只在标签确实无法扫描时使用：输入标签上的献血码及方框内的校验字符，填写原因，并由另一名站点账号（例如交接的司机）输入 PIN 确认。',
    manual_piece: '标签',
    manual_typed: '献血码（含校验字符）',
    manual_reason: '原因',
    manual_witness: '第二人姓名',
    manual_witness_pin: '第二人 PIN',
    manual_submit: '手工录入',
    manual_done: '{din} {piece} 已手工录入（{who} 确认）',
    manual_mark: '手工录入',
    manual_before: '发运前手工录入：{pieces}',
    manual_at_desk: '接收台手工录入：{piece}（{who} 确认：{reason}）',
    piece_bag: '血袋',
    piece_satellite: '转移袋 {n}',
    piece_tube: '标本管 {n}',
    piece_record: '献血记录单',
    box_decided: '{box}：{reason}',
    need_receipt: '请先选择一份清单开始接收',
    box_set: '当前箱设为 {box}',
    stats_link: '统计',
    desk_link: '接收台',
    date: '日期',
    today: '今日',
    this_year: '本年',
    donations: '献血人次',
    aborted: '中止',
    volume: '采血量',
    ml: '毫升',
    by_site: '按地点',
    by_abo: '按 ABO/RhD 血型',
    deferral_rate: '不能献血比例',
    temporary_deferrals: '暂缓献血',
    permanent_exclusions: '永久不能献血',
    repeat_share: '固定献血者占比',
    rural_share: '农村献血者占比',
    donors: '献血者',
    screenings: '体检人次',
    deferred: '不能献血',
    unknown: '未知',
    unknown_site: '未知地点',
    unreadable: '无法读取的记录：{n}',
    nothing: '无数据',
    hub_title: '车载主机',
    hub_station: '工作站',
    hub_link: '上传链路',
    hub_link_on: '开启（记录自动上传）',
    hub_link_off: '关闭（记录留在车上）',
    hub_switch_on: '开启链路',
    hub_switch_off: '关闭链路',
    hub_switch_local: '只能在车载主机本机上切换链路',
    hub_last_contact: '上次与工作站通信',
    hub_unreachable_since: '自 {time} 起无法连接工作站',
    hub_never: '从未',
    hub_tablets: '平板',
    hub_tablet: '平板',
    hub_held: '本机已收',
    hub_relayed: '工作站已收',
    hub_waiting: '待上传',
    hub_last_record: '最近一条记录',
    hub_registered: '已在工作站登记',
    hub_not_registered: '尚未在工作站登记',
    hub_error: '上次上传失败：{why}',
    hub_no_tablets: '还没有平板注册到本车载主机。在主机上运行 device enroll 取得注册码。',
    hub_totals: '本次运行已上传 {relayed} 条，已下载 {imported} 条',
  },
  en: {
    desk_title: 'Receiving desk · hand-off',
    stats_title: 'Collection statistics',
    lang: 'Language',
    sign_in: 'Sign in',
    name: 'Name',
    pin: 'PIN',
    signed_in_as: 'Receiving: ',
    sign_out: 'Sign out',
    scan: 'Scan',
    scan_hint: 'Scan with the hand scanner: manifest QR, box code or bag label (ends with Enter)',
    manifests: 'Transport manifests',
    no_manifests: 'No manifest yet. Wait for the bus to sync, or scan its manifest QR.',
    site: 'Site',
    vehicle: 'Vehicle',
    driver: 'Driver',
    dispatched: 'Dispatched',
    boxes: 'Boxes',
    bags: 'Bags',
    source: 'Source',
    replicated: 'synced',
    by_qr: 'QR',
    qr_same: 'QR matches the synced copy',
    qr_differs: 'QR differs from the synced copy!',
    receive: 'Receive',
    qr_parts: 'Manifest QR: {have} part(s) scanned, still missing part(s) {missing}',
    qr_loaded: 'Manifest loaded from its QR',
    current_box: 'Current box: ',
    no_box: '(no box scanned)',
    received: 'Received',
    missing: 'Missing',
    extra: 'Extra',
    wrong_box: 'Wrong box',
    excursion: 'Temperature excursion',
    over_time_limit: 'Over time limit',
    tubes_missing: 'Tubes missing',
    downgraded: 'Downgraded',
    quarantined: 'Quarantined',
    unit: 'Unit status',
    unit_suitable: 'Suitable',
    unit_downgraded: 'Downgraded',
    unit_quarantined: 'Quarantined',
    tubes: 'Sample tubes',
    box_decisions: 'Boxes that left their range: one decision per box',
    box_reason_placeholder: 'decision for the whole box',
    expected: 'On manifest',
    din: 'DIN',
    status: 'Status',
    manifest_box: 'Manifest box',
    found_box: 'Found in',
    discrepancy: 'Discrepancy',
    reason: 'Reason',
    reason_placeholder: 'enter the reason',
    status_received: 'received',
    status_missing: 'missing',
    status_extra: 'extra',
    sign_title: 'Both parties sign',
    receiver_pin: 'Receiver PIN',
    driver_name: 'Driver name',
    driver_pin: 'Driver PIN',
    sign: 'Sign',
    signed: 'Signed',
    signed_detail: '{at}, by {receiver} (receiver) and {driver} (driver); {n} discrepancies. The bus gets the result on its next sync.',
    manual_title: 'Manual entry (label cannot be scanned)',
    manual_hint: 'Only for a label that really cannot be scanned: type the DIN from the label with its boxed check character, give the reason, and a second station account (e.g. the driver handing over) confirms with their PIN.',
    manual_piece: 'Label',
    manual_typed: 'DIN (with check character)',
    manual_reason: 'Reason',
    manual_witness: 'Second person',
    manual_witness_pin: 'Second person PIN',
    manual_submit: 'Enter by hand',
    manual_done: '{din} {piece} entered by hand (confirmed by {who})',
    manual_mark: 'MANUAL',
    manual_before: 'typed before dispatch: {pieces}',
    manual_at_desk: 'typed at the desk: {piece} (confirmed by {who}: {reason})',
    piece_bag: 'bag',
    piece_satellite: 'satellite bag {n}',
    piece_tube: 'sample tube {n}',
    piece_record: 'donor record',
    box_decided: '{box}: {reason}',
    need_receipt: 'Choose a manifest to receive first',
    box_set: 'Current box is now {box}',
    stats_link: 'Statistics',
    desk_link: 'Receiving desk',
    date: 'Date',
    today: 'Today',
    this_year: 'This year',
    donations: 'Donations',
    aborted: 'aborted',
    volume: 'Volume',
    ml: 'mL',
    by_site: 'By site',
    by_abo: 'By ABO/RhD',
    deferral_rate: 'Deferral rate',
    temporary_deferrals: 'temporary deferrals',
    permanent_exclusions: 'permanent exclusions',
    repeat_share: 'Repeat donors',
    rural_share: 'Rural donors',
    donors: 'Donors',
    screenings: 'Screenings',
    deferred: 'deferred',
    unknown: 'unknown',
    unknown_site: 'unknown site',
    unreadable: 'Unreadable records: {n}',
    nothing: 'No data',
    hub_title: 'Bus hub',
    hub_station: 'Station',
    hub_link: 'Upstream link',
    hub_link_on: 'on (records go up by themselves)',
    hub_link_off: 'off (records stay on the bus)',
    hub_switch_on: 'Switch the link on',
    hub_switch_off: 'Switch the link off',
    hub_switch_local: 'The link can be switched only on the hub machine itself',
    hub_last_contact: 'Last contact with the station',
    hub_unreachable_since: 'Station unreachable since {time}',
    hub_never: 'never',
    hub_tablets: 'Tablets',
    hub_tablet: 'Tablet',
    hub_held: 'Held here',
    hub_relayed: 'Held at the station',
    hub_waiting: 'Waiting to go up',
    hub_last_record: 'Last record',
    hub_registered: 'registered at the station',
    hub_not_registered: 'not yet registered at the station',
    hub_error: 'last relay failed: {why}',
    hub_no_tablets: 'No tablet has enrolled with this hub yet. Run device enroll on the hub for a code.',
    hub_totals: 'Since start: {relayed} relayed up, {imported} brought down',
  },
};

const CATALOGUE = await fetch('/desk/assets/messages.json')
  .then((r) => (r.ok ? r.json() : {}))
  .catch(() => ({}));

function renderParam(p, l, filter = '') {
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) {
    const sep = filter === 'semi' ? (l === 'en' ? '; ' : '；') : l === 'en' ? ', ' : '、';
    return p.map((q) => renderParam(q, l)).join(sep);
  }
  if (p && typeof p === 'object' && 'code' in p) return message(p, l);
  return p?.[l] ?? '';
}

/// A server message ({code, params}) in the page's language; an unknown code shows as
/// itself, plain text as it is.
export function message(msg, l = lang()) {
  if (msg == null) return '';
  if (typeof msg === 'string') return msg;
  const entry = CATALOGUE[msg.code];
  if (!entry) return msg.code;
  const params = msg.params ?? {};
  return entry[l].replace(/\{([^{}|]*)(?:\|(cap|semi))?\}/g, (whole, name, filter) => {
    const p = params[name];
    if (p === undefined) return whole;
    const text = renderParam(p, l, filter);
    return filter === 'cap' ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  });
}

export function lang() {
  const saved = localStorage.getItem('lifebridge.lang');
  return saved === 'en' ? 'en' : 'zh-CN';
}

export function setLang(value) {
  localStorage.setItem('lifebridge.lang', value === 'en' ? 'en' : 'zh-CN');
}

export function t(key, vars = {}) {
  const table = STRINGS[lang()];
  let text = table[key] ?? STRINGS['zh-CN'][key] ?? key;
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

/// Fills every element with data-t="key" and wires the language selector.
export function applyStatic(onChange) {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
  const select = document.getElementById('lang');
  if (select && !select.dataset.wired) {
    select.dataset.wired = '1';
    select.value = lang();
    select.addEventListener('change', () => {
      setLang(select.value);
      applyStatic(onChange);
      onChange?.();
    });
  }
}
