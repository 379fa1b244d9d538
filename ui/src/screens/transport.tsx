// The driver's screen: open boxes, scan bags in, log temperatures, dispatch with a PIN.
// Every verdict (which box a bag may go in, what is an excursion, the counts) comes from
// the core; this screen only routes scans and shows the answers.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  BoxView, ClassOption, Drive, Excursion, ManifestView, ProductClass, SignedManifest, Staff,
  TransportView, UnitLine, call, errorText,
} from "../api";
import { t } from "../i18n";
import { className, renderMessage } from "../messages";
import { options } from "../options";
import { ManualEntry, ManualEntryForm, emptyManualEntry } from "../manual-entry";
import { useReloadAfterSync } from "../sync";

/** A box class as the option list shows it: name, the rules' band and time limit. */
const classOption = (c: ClassOption) =>
  t("class_option", { name: className(c.class), min: c.range.min_c, max: c.range.max_c, hours: c.processing_limit_hours });

/** Downgraded and quarantined units with the core's reasons. */
function UnitList({ units, id }: { units: UnitLine[]; id: string }) {
  if (units.length === 0) return null;
  return (
    <div class="units" id={id}>
      <h3>{t("units_not_suitable")}</h3>
      <ul>{units.map((u) => (
        <li class={`unit ${u.status === "quarantined" ? "error" : "warn"}`} data-din={u.din} data-status={u.status}>
          {u.din} · <strong>{t(`unit_${u.status}` as never)}</strong> · {renderMessage(u.text)}
        </li>
      ))}</ul>
    </div>
  );
}

/** An instant as the crew reads it, to the minute: in the drives' zone, whose offset
 * from UTC the core reports (`screen_options`). Until those have loaded, and for text
 * that is no instant, the raw value: never a time in a guessed zone. */
export function cst(iso: string, offsetSeconds: number | undefined = options.value?.utc_offset_seconds): string {
  const ms = Date.parse(iso);
  if (offsetSeconds === undefined || Number.isNaN(ms)) return iso;
  return new Date(ms + offsetSeconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

/** Whether a reading falls inside one of the excursions the core found. */
export function inExcursion(at: string, excursions: Excursion[]): boolean {
  const ms = Date.parse(at);
  return excursions.some((e) => Date.parse(e.from) <= ms && ms <= Date.parse(e.to));
}

const groupName = (g: string) => (g === "unknown" ? t("unknown_group") : g);

function Counts({ signed, id }: { signed: SignedManifest; id: string }) {
  const c = signed.counts;
  return (
    <dl class="facts" id={id}>
      <dt>{t("total_bags")}</dt><dd class="count-total">{c.bags}</dd>
      <dt>{t("by_class")}</dt>
      <dd>{c.by_class.map((x) => <span class="count-class" data-class={x.class}>{className(x.class)}: {x.bags}　</span>)}</dd>
      <dt>{t("by_abo_rh")}</dt>
      <dd>{c.by_abo_rh.map((x) => <span class="count-group" data-group={x.abo_rh}>{groupName(x.abo_rh)}: {x.bags}　</span>)}</dd>
    </dl>
  );
}

function ExcursionList({ excursions, code }: { excursions: Excursion[]; code: string }) {
  if (excursions.length === 0) return null;
  return (
    <div class="error excursion" role="alert" data-box={code}>
      {excursions.map((e) => (
        <p>⚠ {t("excursion")}: {t("excursion_text", { from: cst(e.from), to: cst(e.to), extreme: e.extreme_c, readings: e.readings })}</p>
      ))}
    </div>
  );
}

function SignedManifestCard({ view, onSaved }: { view: ManifestView; onSaved: (path: string) => void }) {
  const m = view.signed.manifest;
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setError(null);
    try { onSaved(await call("save_manifest_pdf", { manifestId: m.id })); } catch (e) { setError(errorText(e)); }
  };
  return (
    <div class="card manifest" id={`manifest-${m.id}`} data-manifest={m.id}>
      <h2>{t("manifest_title")} · {t("box_dispatched")}</h2>
      <p>{t("driver")}: <strong class="manifest-driver">{m.driver.name}</strong>　{t("dispatched_at")}: {cst(m.dispatched_at)}</p>
      <Counts signed={view.signed} id={`manifest-counts-${m.id}`} />
      <UnitList units={view.signed.units} id={`manifest-units-${m.id}`} />
      {m.boxes.map((b) => (
        <div class="manifest-box" data-box={b.code}>
          <h3>{b.code} · {className(b.class)}</h3>
          <p class="muted">{t("first_collection")}: {b.first_collection_at ? cst(b.first_collection_at) : "—"}</p>
          <ul>{b.bags.map((g) => (
            <li data-din={g.din} data-status={g.unit?.status ?? "suitable"}>
              {g.din} · {g.abo_rh ?? t("unknown_group")}{g.unit && <strong class="warn"> · {t(`unit_${g.unit.status}` as never)}</strong>}
              {(g.manual_labels?.length ?? 0) > 0 && <span class="manual-mark" data-manual-labels={g.manual_labels?.length}> ✎ {t("manual_mark")}</span>}
            </li>
          ))}</ul>
          <ExcursionList excursions={b.excursions} code={b.code} />
        </div>
      ))}
      {view.handoffs.map((h) => (
        <div class={h.discrepancies.length > 0 || (h.box_decisions ?? []).length > 0 ? "card handoff warn" : "card handoff ok"} data-handoff={h.id}>
          <p>{t("handed_off", { receiver: h.receiver.name, at: cst(h.signed_at) })}</p>
          <p>{t("handoff_tally", { received: h.tally.received, expected: h.tally.expected, missing: h.tally.missing, extra: h.tally.extra })}</p>
          {h.discrepancies.length > 0 && (
            <ul>{h.discrepancies.map((d) => <li data-din={d.din}>{d.din} · {t(`handoff_${d.status}` as never)} · {d.reason}</li>)}</ul>
          )}
          {(h.box_decisions ?? []).length > 0 && (
            <ul>{(h.box_decisions ?? []).map((d) => (
              <li data-box={d.excursion.box_code}>{d.excursion.box_code} · {t("excursion")} · {d.excursion.bags.length} · {d.reason}</li>
            ))}</ul>
          )}
        </div>
      ))}
      <h3>{t("manifest_qr")}</h3>
      <div class="row">
        {view.qr_svgs.map((svg, i) => (
          <img class="manifest-qr" id={`manifest-qr-${i + 1}`} data-text={view.qr_texts[i]} width={260} height={260}
            alt={`QR ${i + 1}/${view.qr_svgs.length}`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} />
        ))}
      </div>
      <button class="save-pdf" id={`save-pdf-${m.id}`} onClick={save}>{t("save_pdf")}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

export function Transport({ drive }: { drive: Drive }) {
  const [view, setView] = useState<TransportView | null>(null);
  const [manifests, setManifests] = useState<ManifestView[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [klass, setKlass] = useState<ProductClass>("red_cell_whole_blood");
  const [scan, setScan] = useState("");
  const [celsius, setCelsius] = useState("");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pdfPath, setPdfPath] = useState<string | null>(null);
  const scanInput = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const openBoxes = (view?.boxes ?? []).filter((b) => b.manifest_id === null);
  const current: BoxView | undefined = openBoxes.find((b) => b.transport_box.id === active) ?? openBoxes[0];

  const show = async (next: TransportView) => {
    setView(next);
    const signed = await Promise.all(next.manifests.map((m) => call("manifest", { manifestId: m.manifest.id })));
    setManifests(signed);
  };
  const load = () => call("transport_view", { driveId: drive.id }).then(show).catch((e) => setError(errorText(e)));
  useEffect(() => { load(); }, [drive.id]);

  // The station's signed hand-off arrives by sync while the driver looks at this screen.
  useReloadAfterSync(load, [drive.id]);

  // A hand-held scanner types wherever the focus is. A keystroke that can only start a
  // bag label (ISBT 128 `=` / `&`, or a scanner's `]` prefix) goes to the packing field,
  // so a label scanned while the temperature field has focus is not typed into it.
  useEffect(() => {
    const route = (e: KeyboardEvent) => {
      const field = scanInput.current;
      const focused = document.activeElement;
      if (!field || focused === field || (focused as HTMLElement | null)?.id === "box-code") return;
      // The manual-entry form is typed on purpose.
      if ((focused as HTMLElement | null)?.closest?.("#pack-manual-form")) return;
      if (!["=", "&", "]"].includes(e.key)) return;
      e.preventDefault();
      field.focus();
      setScan(e.key);
    };
    document.addEventListener("keydown", route, true);
    return () => document.removeEventListener("keydown", route, true);
  }, [view]);

  const run = async (f: () => Promise<void>) => {
    setError(null); setMessage(null);
    try { await f(); } catch (e) { setError(errorText(e)); }
  };

  const openBox = (e: Event) => {
    e.preventDefault();
    const boxCode = code.trim();
    run(async () => {
      const next = await call("open_box", { driveId: drive.id, code: boxCode, class: klass });
      const opened = next.boxes.find((b) => b.transport_box.code === boxCode);
      if (opened) setActive(opened.transport_box.id);
      setCode("");
      await show(next);
      setMessage(`✓ ${boxCode}`);
      scanInput.current?.focus();
    });
  };

  const pack = (e: Event) => {
    e.preventDefault();
    const text = scan.trim();
    setScan("");
    if (!text) return;
    // A box's own code switches the current box; anything else is a bag label.
    const bare = text.replace(/^\][A-Za-z][0-9A-Za-z]/, "").trim();
    const box = openBoxes.find((b) => b.transport_box.code === bare);
    if (box) { setActive(box.transport_box.id); setError(null); setMessage(`${t("active_box")}: ${bare}`); return; }
    if (!current) return;
    run(async () => {
      await show(await call("pack_bag", { boxId: current.transport_box.id, text }));
      setMessage(`✓ ${t("packed")}: ${text} → ${current.transport_box.code}`);
    }).then(() => scanInput.current?.focus());
  };

  // The exception path for a bag whose label cannot be scanned.
  const [manual, setManual] = useState<ManualEntry | null>(null);
  const [crew, setCrew] = useState<Staff[]>([]);
  useEffect(() => {
    if (!manual) return;
    Promise.all([call("list_staff"), call("app_status")])
      .then(([all, me]) => setCrew(all.filter((s) => s.active && s.id !== me.staff?.id)))
      .catch(() => setCrew([]));
  }, [manual !== null]);
  const packManual = (e: Event) => {
    e.preventDefault();
    if (!current || !manual) return;
    const m = manual;
    run(async () => {
      await show(await call("pack_bag_manual", { boxId: current.transport_box.id, entry: {
        typed: m.typed, reason: m.reason, witness: m.witness, witness_pin: m.pin } }));
      setManual(null);
      setMessage(`✓ ${t("packed_manual")}: ${m.typed} → ${current.transport_box.code}`);
    }).then(() => setManual((cur) => (cur ? { ...cur, pin: "" } : cur)));
  };

  const unpack = (packingId: string) => run(async () => {
    await show(await call("unpack_bag", { packingId }));
  });

  const addReading = (e: Event) => {
    e.preventDefault();
    if (!current) return;
    const value = Number(celsius.replace(",", "."));
    if (celsius.trim() === "" || Number.isNaN(value)) { setError(`${t("err_generic")}: ${t("reading_celsius")}`); return; }
    run(async () => {
      await show(await call("record_temperature", { boxId: current.transport_box.id, celsius: value, measuredAt: null }));
      setCelsius("");
    });
  };

  const importCsv = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file || !current) return;
    run(async () => {
      const text = await file.text();
      const result = await call("import_logger_csv", {
        boxId: current.transport_box.id, fileName: file.name, text,
      });
      await show(result.view);
      setMessage(t("imported_readings", { imported: result.import.imported, skipped: result.import.skipped }));
    }).then(() => { input.value = ""; });
  };

  const dispatch = (e: Event) => {
    e.preventDefault();
    const entered = pin;
    setPin("");
    run(async () => {
      await call("dispatch", { driveId: drive.id, pin: entered });
      await load();
      setMessage(t("dispatched_ok"));
    });
  };

  if (!view) return <div class="screen">{error ?? "…"}</div>;

  return (
    <div class="screen" id="transport">
      <h1>{t("transport_title")}</h1>
      <div class="two-col">
        <div>
          <form class="card" onSubmit={openBox}>
            <h2>{t("open_box")}</h2>
            <div class="row">
              <label>{t("box_code")}<input id="box-code" autoComplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} /></label>
              <label>{t("box_class")}
                <select id="box-class" value={klass} onChange={(e) => setKlass(e.currentTarget.value as ProductClass)}>
                  {view.classes.map((c) => <option value={c.class}>{classOption(c)}</option>)}
                </select>
              </label>
            </div>
            <button class="primary" id="open-box" type="submit">{t("open_box")}</button>
          </form>

          {openBoxes.length > 0 && (
            <div class="card">
              <label>{t("active_box")}
                <select id="active-box" value={current?.transport_box.id ?? ""} onChange={(e) => setActive(e.currentTarget.value)}>
                  {openBoxes.map((b) => <option value={b.transport_box.id}>{b.transport_box.code} · {className(b.transport_box.class)}</option>)}
                </select>
              </label>
              <form onSubmit={pack}>
                <label>{t("pack_scan")} ⌁<input id="pack-scan" ref={scanInput} autoComplete="off" value={scan} onInput={(e) => setScan(e.currentTarget.value)} /></label>
              </form>
              {manual ? (
                <ManualEntryForm idPrefix="pack-manual" entry={manual} crew={crew} onChange={setManual} onSubmit={packManual}
                  onCancel={() => setManual(null)} hint={t("pack_manual_hint")} />
              ) : (
                <button type="button" class="manual-open" id="pack-manual-open" onClick={() => setManual(emptyManualEntry())}>{t("pack_manual_open")}</button>
              )}
              <form class="row" onSubmit={addReading}>
                <label>{t("reading_celsius")}<input id="reading-celsius" inputMode="decimal" autoComplete="off" value={celsius} onInput={(e) => setCelsius(e.currentTarget.value)} /></label>
                <button id="add-reading" type="submit">{t("add_reading")}</button>
              </form>
              <label>{t("logger_file")}<input id="logger-file" type="file" accept=".csv,text/csv,text/plain" ref={fileInput} onChange={importCsv} /></label>
            </div>
          )}
          {error && <p class="error" role="alert" id="transport-error">{error}</p>}
          {message && <p class="ok" role="status" id="transport-message">{message}</p>}

          <div class="card">
            <h2>{t("unpacked_bags")}</h2>
            {view.unpacked.length === 0 ? <p class="muted" id="no-unpacked">{t("no_unpacked")}</p> : (
              <ul id="unpacked">
                {view.unpacked.map((u) => (
                  <li data-din={u.donation.din}>
                    {u.donation.din} · {t(u.donation.procedure as never)}
                    {u.refusal ? <span class="warn"> · {renderMessage(u.refusal)}</span>
                      : <span class="muted"> · {t("allowed_boxes")}: {u.allowed.map((c) => className(c)).join(" / ")}</span>}
                    {u.unit.status !== "suitable" && <span class="warn unit-text" data-status={u.unit.status}> · {renderMessage(u.unit_text)}</span>}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>

        <div>
          {view.boxes.map((b) => {
            const open = b.manifest_id === null;
            const code = b.transport_box.code;
            return (
              <div class={`card box ${b === current ? "active" : ""}`} data-box={code} data-state={open ? "open" : "dispatched"}>
                <h2>{code} · {className(b.transport_box.class)} <span class={open ? "muted" : "warn"}>({open ? t("box_open") : t("box_dispatched")})</span></h2>
                <p>{t("bags_count")}: <strong class="bag-count">{b.bags.length}</strong></p>
                <ul class="box-bags">
                  {b.bags.map((g) => (
                    <li data-din={g.packing.din} data-manual={g.packing.manual ? "true" : undefined}>{g.packing.din} · {g.abo_rh ?? t("unknown_group")}
                      {g.packing.manual && <span class="manual-mark"> ✎ {t("manual_mark")}</span>}
                      {open && <button class="ghost unpack" onClick={() => unpack(g.packing.id)}>{t("unpack")}</button>}
                    </li>
                  ))}
                </ul>
                <h3>{t("readings")}</h3>
                {b.readings.length === 0 ? <p class="muted">{t("no_readings")}</p> : (
                  <ul class="readings">
                    {b.readings.map((r) => {
                      const out = inExcursion(r.measured_at, b.excursions);
                      return <li class={out ? "reading out warn" : "reading"}>{cst(r.measured_at)} · {r.celsius.toFixed(1)} °C{r.source.kind === "logger" ? ` · ${r.source.file_name}` : ""}</li>;
                    })}
                  </ul>
                )}
                <ExcursionList excursions={b.excursions} code={code} />
              </div>
            );
          })}

          {view.preview && (
            <form class="card" id="dispatch-card" onSubmit={dispatch}>
              <h2>{t("manifest_preview")}</h2>
              <Counts signed={view.preview} id="preview-counts" />
              <UnitList units={view.preview.units} id="preview-units" />
              <label>{t("dispatch_pin")}<input id="dispatch-pin" type="password" inputMode="numeric" autoComplete="off" value={pin} onInput={(e) => setPin(e.currentTarget.value)} /></label>
              <button class="primary big" id="dispatch" type="submit">{t("dispatch")}</button>
            </form>
          )}

          {manifests.map((m) => <SignedManifestCard view={m} onSaved={setPdfPath} />)}
          {pdfPath && <p class="ok" id="pdf-path">{t("saved_to")} {pdfPath}</p>}
          {pdfPath && <p class="muted plaintext-note" id="pdf-plaintext">{t("export_plaintext")}</p>}
        </div>
      </div>
    </div>
  );
}
