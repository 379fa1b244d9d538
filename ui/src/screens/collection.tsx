import { useEffect, useRef, useState } from "preact/hooks";
import {
  Arm, BagSetKind, Donation, Drive, LabelPiece as Piece, LabelView, Outcome, QueueEntry, ReactionKind, Severity, Staff, call, errorText,
} from "../api";
import { t } from "../i18n";
import { className, renderMessage } from "../messages";
import { ManualEntry, ManualEntryForm, emptyManualEntry } from "../manual-entry";
import { loaded, options } from "../options";

// The piece's name as the core says it (`piece.*`, LabelPiece::name), in the screen's language.
const pieceName = (p: Piece) => renderMessage({ code: `piece.${p.kind}`, params: { n: String(p.piece) } });
const same = (a: Piece, b: Piece) => a.kind === b.kind && a.piece === b.piece;

export function Collection({ drive, donorId }: { drive: Drive; donorId: string | null }) {
  const [queue, setQueue] = useState<QueueEntry[]>([]);
  const [donor, setDonor] = useState<string | null>(donorId);
  const [bag, setBag] = useState<{ kind: BagSetKind; lot: string; arm: Arm }>({ kind: "double", lot: "", arm: "left" });
  const [donation, setDonation] = useState<Donation | null>(null);
  const [labels, setLabels] = useState<LabelView | null>(null);
  const [scan, setScan] = useState("");
  const [finish, setFinish] = useState<{ gross: string; tare: string; volume: string; outcome: Outcome; reaction: ReactionKind | ""; severity: Severity }>(
    { gross: "", tare: "", volume: "", outcome: "complete", reaction: "", severity: "mild" });
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const scanInput = useRef<HTMLInputElement>(null);
  const [previews, setPreviews] = useState<string[]>([]);
  // The exception path for one piece whose label cannot be scanned.
  const [manual, setManual] = useState<({ piece: Piece } & ManualEntry) | null>(null);
  const [crew, setCrew] = useState<Staff[]>([]);
  useEffect(() => {
    if (!manual) return;
    Promise.all([call("list_staff"), call("app_status")])
      .then(([all, me]) => setCrew(all.filter((s) => s.active && s.id !== me.staff?.id)))
      .catch(() => setCrew([]));
  }, [manual !== null]);

  const load = () => call("chair_queue", { driveId: drive.id }).then(setQueue).catch((e) => setError(errorText(e)));
  useEffect(() => { load(); }, [drive.id]);
  useEffect(() => { const i = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(i); }, []);

  const entry = queue.find((e) => e.donor.id === donor);
  useEffect(() => {
    const d = entry?.donation ?? null;
    setDonation(d);
    if (d) call("label_status", { donationId: d.id }).then(setLabels).catch(() => setLabels(null));
    else setLabels(null);
  }, [entry?.donation?.id, entry?.donation?.outcome]);
  const printed = labels !== null && labels.status.set.length > 0;
  useEffect(() => {
    if (donation && printed) call("label_previews", { donationId: donation.id }).then(setPreviews).catch(() => setPreviews([]));
    else setPreviews([]);
  }, [donation?.id, printed]);
  // A hand-held scanner types wherever the focus is: keep it on the scan field.
  useEffect(() => { if (labels && labels.status.set.length > 0) scanInput.current?.focus(); }, [labels]);
  // And if the phlebotomist was typing elsewhere (the volume, say), a keystroke that can
  // only start a label scan (a scanner's `]` symbology prefix, or ISBT 128 `=` / `&`;
  // full-width from a Chinese IME too) moves it to the scan field, so the scan is never
  // typed into the wrong box. The manual-entry form is left alone: it is typed on purpose.
  useEffect(() => {
    const route = (e: KeyboardEvent) => {
      const field = scanInput.current;
      if (!field || document.activeElement === field || !["=", "&", "]", "＝", "＆", "］"].includes(e.key)) return;
      if ((document.activeElement as HTMLElement | null)?.closest?.("#manual-form")) return;
      e.preventDefault();
      field.focus();
      setScan(e.key);
    };
    document.addEventListener("keydown", route, true);
    return () => document.removeEventListener("keydown", route, true);
  }, [labels]);

  const run = async (f: () => Promise<void>) => { setError(null); setMessage(null); try { await f(); } catch (e) { setError(errorText(e)); } };

  const start = () => run(async () => {
    const screening = entry?.screening;
    if (!screening) return;
    const d = await call("start_collection", { form: {
      screening_id: screening.id, bag_set: { kind: bag.kind, lot: bag.lot },
      planned_volume_ml: screening.planned_volume_ml, arm: bag.arm } });
    setDonation(d);
    setLabels(await call("print_labels", { donationId: d.id, tubes: loaded().tubes }));
    await load();
  });

  const submitScan = (e: Event) => {
    e.preventDefault();
    const text = scan;
    setScan("");
    if (!donation) return;
    run(async () => {
      setLabels(await call("scan_label", { donationId: donation.id, text }));
      setMessage(`✓ ${text}`);
    }).then(() => call("label_status", { donationId: donation.id }).then(setLabels).catch(() => {}));
  };

  const submitManual = (e: Event) => {
    e.preventDefault();
    if (!donation || !manual) return;
    const m = manual;
    run(async () => {
      setLabels(await call("manual_label_entry", { donationId: donation.id, entry: {
        piece: m.piece, typed: m.typed, reason: m.reason, witness: m.witness, witness_pin: m.pin } }));
      setManual(null);
      setMessage(`✓ ${pieceName(m.piece)} · ${t("manual_mark")}`);
    }).then(() => setManual((cur) => (cur ? { ...cur, pin: "" } : cur)));
  };

  const fromScale = () => run(async () => {
    const v = await call("volume_from_scale", { grossG: Number(finish.gross), tareG: Number(finish.tare) });
    setFinish({ ...finish, volume: String(v) });
  });

  const finishCollection = () => run(async () => {
    if (!donation) return;
    const reactions = finish.reaction ? [{ kind: finish.reaction, severity: finish.severity, onset: new Date().toISOString(), note: null }] : [];
    await call("finish_collection", { form: { donation_id: donation.id, ended_at: null, collected_volume_ml: Number(finish.volume), reactions, outcome: finish.outcome } });
    setLabels(await call("release_donation", { donationId: donation.id }));
    setMessage(`${t("status_done")}: ${labels?.eye_readable ?? donation.din}`);
    await load();
  });

  const candidates = queue.filter((e) => e.status === "screened" || e.status === "on_chair");
  // The window's clock and the core's can differ by a moment: never show negative time.
  const elapsed = donation ? Math.max(0, Math.floor((now - Date.parse(donation.started_at)) / 1000)) : 0;
  const minutes = Math.floor(elapsed / 60);
  const seconds = elapsed % 60;
  const allVerified = labels !== null && labels.status.set.length > 0 && labels.status.missing.length === 0;

  return (
    <div class="screen">
      <h1>{t("collection_title")}</h1>
      <div class="card">
        <label>{t("choose_donor")}
          <select id="collect-donor" value={donor ?? ""} onChange={(e) => { setDonor(e.currentTarget.value || null); setMessage(null); }}>
            <option value="" />
            {candidates.map((e) => <option value={e.donor.id}>{e.donor.name} · {t(`status_${e.status}` as never)}</option>)}
          </select>
        </label>
      </div>
      {entry && entry.status === "screened" && (
        <div class="card">
          {entry.excluded_products.length > 0 && (
            <p class="warn" id="excluded-products">{t("excluded_products")}: {entry.excluded_products.map((p) => className(p)).join("、")}</p>
          )}
          <div class="row">
            <label>{t("bag_set")}<select id="bag-kind" value={bag.kind} onChange={(e) => setBag({ ...bag, kind: e.currentTarget.value as BagSetKind })}>
              {(options.value?.bag_sets ?? []).map((k) => <option value={k}>{t(k as never)}</option>)}</select></label>
            <label>{t("lot")}<input id="bag-lot" value={bag.lot} onInput={(e) => setBag({ ...bag, lot: e.currentTarget.value })} /></label>
            <label>{t("arm")}<select value={bag.arm} onChange={(e) => setBag({ ...bag, arm: e.currentTarget.value as Arm })}>
              <option value="left">{t("left")}</option><option value="right">{t("right")}</option></select></label>
          </div>
          <button class="primary big" id="start-collection" onClick={start}>{t("start_collection")}</button>
        </div>
      )}
      {donation && labels && (
        <div class="two-col">
          <div class="card">
            <p class="din" id="din">{t("din")}: <strong>{labels.eye_readable.slice(0, -1)}</strong><span class="check-char">{labels.eye_readable.slice(-1)}</span></p>
            {donation.outcome === "in_progress" && <p class="timer" id="timer">{t("elapsed")}: {minutes}:{String(seconds).padStart(2, "0")}</p>}
            {previews.length > 0 && (
              <img id="label-preview" class="label-preview" alt={labels.eye_readable}
                src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(previews[0])}`} />
            )}
            <ul class="pieces" id="pieces">
              {labels.status.set.map((p, i) => {
                const ok = labels.status.verified.some((v) => same(v, p));
                const byHand = (labels.status.manual ?? []).some((v) => same(v, p));
                return <li class={ok ? (byHand ? "verified manual" : "verified") : "missing"} data-barcode={labels.barcodes[i]}>
                  {ok ? "✓" : "○"} {pieceName(p)}{byHand && <span class="manual-mark"> ✎ {t("manual_mark")}</span>}
                  {!ok && !labels.status.released && (
                    <button type="button" class="manual-open" id={`manual-${i}`}
                      onClick={() => setManual({ piece: p, ...emptyManualEntry() })}>{t("manual_entry")}</button>
                  )}
                </li>;
              })}
            </ul>
            {!labels.status.released && (
              <form onSubmit={submitScan}>
                <label>{t("din")} ⌁<input id="scan" ref={scanInput} autoComplete="off" value={scan} onInput={(e) => setScan(e.currentTarget.value)} /></label>
              </form>
            )}
            {manual && !labels.status.released && (
              <ManualEntryForm idPrefix="manual" entry={manual} crew={crew} onChange={setManual} onSubmit={submitManual}
                onCancel={() => setManual(null)}
                hint={<>{t("manual_entry")}: <strong>{pieceName(manual.piece)}</strong> — {t("manual_hint")}</>} />
            )}
            {/* A refused scan is shown where the phlebotomist is looking. */}
            {error && <p class="error" role="alert" id="collection-error">{error}</p>}
          </div>
          {donation.outcome === "in_progress" && (
            <div class="card">
              <div class="row">
                <label>{t("gross")}<input id="gross" inputMode="decimal" value={finish.gross} onInput={(e) => setFinish({ ...finish, gross: e.currentTarget.value })} /></label>
                <label>{t("tare")}<input id="tare" inputMode="decimal" value={finish.tare} onInput={(e) => setFinish({ ...finish, tare: e.currentTarget.value })} /></label>
                <button id="from-scale" onClick={fromScale}>{t("from_scale")}</button>
              </div>
              <label>{t("volume")}<input id="collected" inputMode="numeric" value={finish.volume} onInput={(e) => setFinish({ ...finish, volume: e.currentTarget.value })} /></label>
              <div class="row">
                <label>{t("outcome")}<select id="outcome" value={finish.outcome} onChange={(e) => setFinish({ ...finish, outcome: e.currentTarget.value as Outcome })}>
                  {(options.value?.finish_outcomes ?? []).map((o) => <option value={o}>{t(o as never)}</option>)}</select></label>
                <label>{t("reaction")}<select value={finish.reaction} onChange={(e) => setFinish({ ...finish, reaction: e.currentTarget.value as ReactionKind | "" })}>
                  <option value="">{t("none")}</option>
                  {(options.value?.reaction_kinds ?? []).map((r) => <option value={r}>{t(r as never)}</option>)}</select></label>
                {finish.reaction && <label>&nbsp;<select value={finish.severity} onChange={(e) => setFinish({ ...finish, severity: e.currentTarget.value as Severity })}>
                  {(options.value?.severities ?? []).map((s) => <option value={s}>{t(s as never)}</option>)}</select></label>}
              </div>
              <button class="primary big" id="finish" disabled={!allVerified || finish.volume === ""} onClick={finishCollection}>{t("finish_collection")}</button>
            </div>
          )}
        </div>
      )}
      {message && <p class="ok" role="status" id="collection-message">{message}</p>}
      {error && !(donation && labels) && <p class="error" role="alert" id="collection-error">{error}</p>}
    </div>
  );
}
