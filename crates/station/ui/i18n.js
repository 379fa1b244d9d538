// Lifebridge station pages: zh-CN first, English selectable. Every user-facing string
// of the desk and statistics pages is here; server messages arrive already bilingual.
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
    unreadable: '无法读取的记录：{n}',
    nothing: '无数据',
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
    unreadable: 'Unreadable records: {n}',
    nothing: 'No data',
  },
};

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
