import { useEffect, useRef, useState } from "preact/hooks";
import {
  AppointmentEntry, DocumentCheck as DocCheck, Donor, DonorOverview, Drive, PrefillView, Sex, Text, call, errorText, refusalText,
} from "../api";
import { lang, t } from "../i18n";
import { renderMessage } from "../messages";
import { options } from "../options";

/** A pre-fill code's text, as typed by a hand scanner (perhaps after the QR's AIM
 * identifier `]Q1`) or pasted: read as a code, never checked as an ID number. */
const PREFILL_CODE = /^(\]Q\d)?LBQ\d*:/;

export function CheckIn({ drive }: { drive: Drive }) {
  const [kind, setKind] = useState("resident_id");
  const [text, setText] = useState("");
  const [check, setCheck] = useState<DocCheck | null>(null);
  const [checkError, setCheckError] = useState<string | null>(null);
  const [found, setFound] = useState<Donor[] | null>(null);
  const [overview, setOverview] = useState<DonorOverview | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reg, setReg] = useState<{ name: string; phone: string; address: string; rural: boolean; sex: Sex | ""; birth_date: string }>(
    { name: "", phone: "", address: "", rural: true, sex: "", birth_date: "" });
  const [confirmation, setConfirmation] = useState("");
  // The donor's pre-filled QR: its text (typed by a hand scanner, pasted, or from the
  // camera) and what the core read from it.
  const [code, setCode] = useState("");
  const [prefill, setPrefill] = useState<PrefillView | null>(null);
  const [prefillError, setPrefillError] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);

  const [booked, setBooked] = useState<AppointmentEntry[]>([]);
  const loadBooked = () => call("drive_appointments", { driveId: drive.id }).then(setBooked).catch(() => setBooked([]));
  useEffect(() => { loadBooked(); }, [drive.id]);

  // Answers to earlier keystrokes can arrive after later ones: only the latest counts.
  const latest = useRef(0);
  const validate = async (value: string) => {
    const ticket = ++latest.current;
    setText(value);
    setFound(null); setOverview(null); setMessage(null); setError(null);
    // A pre-fill code typed by a hand scanner is read on its Enter, not checked as an ID.
    if (PREFILL_CODE.test(value.trimStart())) { setCheck(null); setCheckError(null); return; }
    if (value.trim().length < 6) { setCheck(null); setCheckError(null); return; }
    try {
      const answer = await call("check_document", { kind, number: value });
      if (ticket === latest.current) { setCheck(answer); setCheckError(null); }
    } catch (e) {
      if (ticket === latest.current) { setCheck(null); setCheckError(`${errorText(e)} — ${(e as { message?: string }).message ?? ""}`); }
    }
  };

  const open = async (donor: Donor) => {
    setConfirmation("");
    try { setOverview(await call("donor_overview", { donorId: donor.id })); } catch (e) { setError(errorText(e)); }
  };

  const search = async (e: Event) => {
    e.preventDefault();
    // A hand scanner aimed at a pre-fill QR types its text into whichever field has the focus.
    if (PREFILL_CODE.test(text.trimStart())) { setCode(text.trimStart()); setText(""); await readCode(text); return; }
    try {
      const donors = await call("find_donors", { query: text.trim() });
      setFound(donors);
      if (donors.length === 1) await open(donors[0]);
    } catch (err) { setError(errorText(err)); }
  };

  const register = async (e: Event) => {
    e.preventDefault();
    try {
      const donor = await call("register_donor", {
        form: {
          document_kind: kind, document_number: text, name: reg.name, phone: reg.phone || null,
          address: reg.address || null, rural: reg.rural,
          sex: kind === "resident_id" ? null : reg.sex || null,
          birth_date: kind === "resident_id" ? null : reg.birth_date || null,
        },
      });
      setFound([donor]);
      await open(donor);
    } catch (err) { setError(errorText(err)); }
  };

  // What eligibility knows before anyone measures: shown in red, and checking in then
  // needs a reason the store records.
  const blocked = overview !== null && !overview.check_in.eligible_today;
  const checkIn = async () => {
    if (!overview) return;
    try {
      await call("check_in", { driveId: drive.id, donorId: overview.donor.id, confirmation: blocked ? confirmation : null });
      setMessage(`${t("checked_in")}: ${overview.donor.name}`);
      loadBooked();
    } catch (err) { setError(errorText(err)); }
  };

  const readCode = async (value: string) => {
    setPrefill(null); setPrefillError(null); setOverview(null); setFound(null); setMessage(null); setError(null);
    setConfirmation("");
    if (value.trim() === "") return;
    try {
      // Only leading blanks go: a base45 code may end in a space.
      const view = await call("read_prefill", { driveId: drive.id, text: value.trimStart() });
      setPrefill(view);
      // A donor on record: their overview says whether history allows today.
      if (view.donor) setOverview(await call("donor_overview", { donorId: view.donor.id }));
    } catch (err) { setPrefillError(refusalText(err)); }
  };

  const scanCamera = async () => {
    setScanning(true); setPrefillError(null);
    try {
      const value = await call("scan_camera");
      setCode(value);
      await readCode(value);
    } catch (err) { setPrefillError(refusalText(err)); }
    finally { setScanning(false); }
  };

  const checkInPrefilled = async () => {
    if (!prefill) return;
    try {
      await call("check_in_prefilled", { driveId: drive.id, text: code.trimStart(), confirmation: blocked ? confirmation : null });
      setMessage(`${t("checked_in")}: ${prefill.name}`);
      setPrefill(null); setOverview(null); setCode("");
      loadBooked();
    } catch (err) {
      // A donor whom age or history do not allow today (registered from the code just
      // now, perhaps): read the code again so the screen shows why and asks for a reason.
      if ((err as { code?: string }).code === "checkin_needs_confirmation") await readCode(code);
      setPrefillError(refusalText(err));
    }
  };

  const words = (x: Text) => (lang.value === "en" ? x.en : x.zh);

  // A booked donor: the same path as a typed ID, with the booking's name and phone
  // ready for registration if this device has never seen them.
  const pick = async (entry: AppointmentEntry) => {
    const { document, name, phone } = entry.appointment;
    setKind(document.kind);
    await validate(document.number);
    if (entry.donor) { setFound([entry.donor]); await open(entry.donor); return; }
    setReg({ ...reg, name, phone: phone ?? "" });
    setFound([]);
  };

  return (
    <div class="screen">
      <h1>{t("tab_checkin")}</h1>
      <form class="card" id="prefill" onSubmit={(e) => { e.preventDefault(); readCode(code); }}>
        <h2>{t("prefill_title")}</h2>
        <div class="row">
          <label class="grow">{t("prefill_code")}
            <input id="prefill-code" autoComplete="off" spellcheck={false} value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </label>
          <button type="submit" id="prefill-read">{t("prefill_read")}</button>
          <button type="button" class="primary" id="scan-camera" disabled={scanning} onClick={scanCamera}>{scanning ? t("scanning") : t("scan_camera")}</button>
        </div>
        <small class="muted">{t("prefill_hint")}</small>
        {prefillError && <p class="error" role="alert" id="prefill-error">{prefillError}</p>}
      </form>

      {prefill && (
        <div class="card" id="prefill-view">
          <h2 id="prefill-name">{prefill.name} <small class="muted">{t(prefill.sex)}{prefill.birth_date && ` · ${prefill.birth_date}`}</small></h2>
          <p>{t(prefill.document.kind as never)} {prefill.document.number}{prefill.phone && ` · ${prefill.phone}`}</p>
          <p id="prefill-who" class={prefill.donor ? "ok" : ""}>
            {prefill.donor ? t("prefill_known") : t("prefill_new")}
            {prefill.appointment && <strong id="prefill-booked"> · {t("prefill_booked")} {prefill.appointment.time?.slice(0, 5) ?? ""}</strong>}
          </p>
          {prefill.notes.map((n) => <p class="warn" data-code={n.code}>⚠ {renderMessage(n)}</p>)}
          <table id="prefill-answers"><tbody>
            {prefill.answers.map((a) => (
              <tr data-question={a.question} class={a.defers || a.review ? "warn" : ""}>
                <td>{words(a.text)}</td><td class="answer">{words(a.answer)}</td>
                <td>{a.defers ?? ""}{a.review ? ` ${t("prefill_review")}` : ""}</td>
              </tr>
            ))}
          </tbody></table>
          {prefill.unanswered.length > 0 && <p class="muted" id="prefill-unanswered">{t("prefill_unanswered", { count: prefill.unanswered.length })}</p>}
          <small class="muted">{t("prefill_valid_on")} {prefill.valid_on} · {prefill.prefill.version}</small>
          {blocked && (
            <div class="checkin-warning" role="alert">
              <strong>{t("checkin_warning")}{overview?.check_in.next_eligible ? ` · ${t("eligible_from")} ${overview.check_in.next_eligible}` : ""}</strong>
              <ul class="reasons">{overview?.check_in.reasons.map((r) => <li data-code={r.code}>{renderMessage(r.message)}</li>)}</ul>
              <label>{t("checkin_confirm_reason")}<input id="prefill-confirm-reason" value={confirmation} onInput={(e) => setConfirmation(e.currentTarget.value)} /></label>
            </div>
          )}
          <button class="primary big" id="prefill-check-in" disabled={blocked && confirmation.trim() === ""} onClick={checkInPrefilled}>{t("prefill_check_in")}</button>
        </div>
      )}
      <form class="card" onSubmit={search}>
        <div class="row">
          <label>{t("doc_kind")}
            <select value={kind} onChange={(e) => { setKind(e.currentTarget.value); setCheck(null); }}>
              {(options.value?.document_kinds ?? []).map((k) => <option value={k}>{t(k as never)}</option>)}
            </select>
          </label>
          <label class="grow">{t("id_number")}
            <input id="id-number" autoFocus autoComplete="off" value={text} onInput={(e) => validate(e.currentTarget.value)} />
          </label>
          <button class="primary" type="submit" id="find">{t("search")}</button>
        </div>
        <small class="muted">{t("search_hint")}</small>
        {check && <p class="ok" id="id-ok">✓ {t("id_valid")}{check.birth_date && ` · ${t("birth_date")} ${check.birth_date} · ${t(check.sex as never)}`}</p>}
        {checkError && <p class="warn" id="id-error">{checkError}</p>}
      </form>

      {booked.length > 0 && (
        <div class="card" id="appointments">
          <h2>{t("appointments_today")} <small class="muted">{booked.filter((b) => b.arrived).length}/{booked.filter((b) => !b.appointment.cancelled).length} {t("arrived")}</small></h2>
          {booked.map((b) => (
            <button class={`list-item appointment ${b.arrived ? "arrived" : ""} ${b.appointment.cancelled ? "cancelled" : ""}`}
              data-appointment={b.appointment.name} disabled={b.appointment.cancelled} onClick={() => pick(b)}>
              <span>{b.appointment.time?.slice(0, 5) ?? "—"}</span> <strong>{b.appointment.name}</strong> {t(b.appointment.procedure)}
              {" · "}{b.appointment.cancelled ? t("appointment_cancelled") : b.arrived ? t("arrived") : t("expected")}
              {b.appointment.note && <small class="muted"> · {b.appointment.note}</small>}
            </button>
          ))}
        </div>
      )}

      {found && found.length === 0 && (
        <form class="card" onSubmit={register}>
          <p>{t("no_donor")}</p>
          <label>{t("name")}<input id="reg-name" value={reg.name} onInput={(e) => setReg({ ...reg, name: e.currentTarget.value })} /></label>
          {kind !== "resident_id" && (
            <div class="row">
              <label>{t("sex")}<select value={reg.sex} onChange={(e) => setReg({ ...reg, sex: e.currentTarget.value as Sex | "" })}>
                <option value="" /><option value="male">{t("male")}</option><option value="female">{t("female")}</option></select></label>
              <label>{t("birth_date")}<input type="date" value={reg.birth_date} onInput={(e) => setReg({ ...reg, birth_date: e.currentTarget.value })} /></label>
            </div>
          )}
          <label>{t("phone")}<input id="reg-phone" inputMode="tel" value={reg.phone} onInput={(e) => setReg({ ...reg, phone: e.currentTarget.value })} /></label>
          <label>{t("address")}<input value={reg.address} onInput={(e) => setReg({ ...reg, address: e.currentTarget.value })} /></label>
          <label class="check"><input type="checkbox" checked={reg.rural} onChange={(e) => setReg({ ...reg, rural: e.currentTarget.checked })} />{t("rural")}</label>
          <button class="primary" type="submit" id="register">{t("register")}</button>
        </form>
      )}

      {found && found.length > 1 && !overview && (
        <div class="card">
          {found.map((d) => <button class="list-item" onClick={() => open(d)}>{d.name} · {d.birth_date} · {d.phone ?? ""}</button>)}
        </div>
      )}

      {overview && !prefill && (
        <div class="card" id="donor-overview">
          <h2>{overview.donor.name} <small class="muted">{t(overview.donor.sex)} · {overview.donor.birth_date}</small></h2>
          {overview.probable_duplicates.length > 0 && (
            <p class="warn" id="duplicate-warning">⚠ {t("duplicate_warning")}: {overview.probable_duplicates.map((d) => `${d.name} (${d.document.number})`).join(", ")}</p>
          )}
          <dl class="facts">
            <dt>{t("cumulative")}</dt><dd id="cumulative">{overview.cumulative_volume_ml} mL</dd>
            <dt>{t("next_eligible")}</dt>
            <dd id="next-eligible" class={blocked ? "bad" : ""}>{overview.eligible_today ? t("eligible_now") : overview.next_eligible ?? t("never_by_time")}</dd>
            <dt>{t("active_deferrals")}</dt>
            <dd id="deferrals">{overview.active_deferrals.length === 0 ? t("none") : overview.active_deferrals.map((d) => `${d.reason} → ${d.until ?? "∞"}`).join("; ")}</dd>
          </dl>
          <h3>{t("history")}</h3>
          {overview.donations.length === 0 ? <p class="muted">{t("no_history")}</p> : (
            <table><tbody>
              {overview.donations.map((d) => <tr><td>{d.started_at.slice(0, 10)}</td><td>{t(d.procedure)}</td><td>{d.collected_volume_ml ?? d.planned_volume_ml} mL</td><td>{d.din}</td></tr>)}
            </tbody></table>
          )}
          {blocked ? (
            <div class="checkin-warning" role="alert" id="checkin-warning" data-next-eligible={overview.check_in.next_eligible ?? ""}>
              <strong>{t("checkin_warning")}{overview.check_in.next_eligible ? ` · ${t("eligible_from")} ${overview.check_in.next_eligible}` : ` · ${t("never_by_time")}`}</strong>
              <ul class="reasons">
                {overview.check_in.reasons.map((r) => <li data-code={r.code}>{renderMessage(r.message)}</li>)}
              </ul>
              <label>{t("checkin_confirm_reason")}<input id="checkin-confirm-reason" value={confirmation} onInput={(e) => setConfirmation(e.currentTarget.value)} /></label>
              <button class="warn-button big" id="check-in" disabled={confirmation.trim() === ""} onClick={checkIn}>{t("check_in_anyway")}</button>
            </div>
          ) : <button class="primary big" id="check-in" onClick={checkIn}>{t("check_in")}</button>}
        </div>
      )}
      {message && <p class="ok" role="status" id="checkin-message">{message}</p>}
      {error && <p class="error" role="alert" id="checkin-error">{error}</p>}
    </div>
  );
}
