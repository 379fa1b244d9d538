import { useEffect, useState } from "preact/hooks";
import { useReloadAfterSync } from "../sync";
import {
  DeferralChoice, Drive, PhysicianDecision, PrefilledView, Procedure, QueueEntry, Questionnaire as QuestionnaireDoc, ScreeningForm, ScreeningView, Sex,
  call, errorText,
} from "../api";
import { lang, t } from "../i18n";
import { className, renderMessage } from "../messages";
import { options } from "../options";
import { Answers, Questionnaire } from "./questionnaire";
import { ConsentPanel, GivenConsent } from "./consent";

const num = (s: string) => (s.trim() === "" ? NaN : Number(s));
const say = (zh: string, en: string) => (lang.value === "en" ? en : zh);

/** The saved outcome of the last donor, shown above the next one's empty form. */
interface Saved { text: string; deferredScreening: string | null }

export function Screening({ drive, donorId }: { drive: Drive; donorId: string | null }) {
  const [waiting, setWaiting] = useState<QueueEntry[]>([]);
  const [donor, setDonor] = useState<string | null>(donorId);
  const [saved, setSaved] = useState<Saved | null>(null);
  const [slip, setSlip] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [catalogue, setCatalogue] = useState<DeferralChoice[]>([]);
  const [doc, setDoc] = useState<QuestionnaireDoc | null>(null);

  const loadWaiting = () =>
    call("chair_queue", { driveId: drive.id }).then((q) => setWaiting(q.filter((e) => e.status === "waiting"))).catch((e) => setError(errorText(e)));
  useEffect(() => {
    loadWaiting();
    call("deferral_catalogue").then(setCatalogue).catch(() => {});
    call("current_questionnaire").then(setDoc).catch((e) => setError(errorText(e)));
  }, [drive.id, saved]);
  // Donors checked in on another tablet of the bus appear as soon as a sync brings them.
  useReloadAfterSync(loadWaiting, [drive.id]);

  // The questionnaire asks what concerns the donor's sex, as the core holds it.
  const sex = waiting.find((e) => e.donor.id === donor)?.donor.sex ?? null;

  const printSlip = async () => {
    if (!saved?.deferredScreening) return;
    try { setSlip(await call("save_deferral_slip", { screeningId: saved.deferredScreening })); } catch (e) { setError(errorText(e)); }
  };

  return (
    <div class="screen">
      <h1>{t("screening_title")}</h1>
      {saved && (
        <div class="card">
          <p class="ok" role="status" id="screening-saved">{saved.text}</p>
          {saved.deferredScreening && <button id="deferral-slip" onClick={printSlip}>{t("deferral_slip")}</button>}
          {slip && <p class="muted" id="slip-path">{t("slip_saved")}: {slip}</p>}
          {slip && <p class="muted plaintext-note" id="slip-plaintext">{t("export_plaintext")}</p>}
        </div>
      )}
      <div class="card">
        <label>{t("choose_donor")}
          <select id="screen-donor" key={saved?.text ?? "choosing"} value={donor ?? ""} onChange={(e) => { setDonor(e.currentTarget.value || null); setSaved(null); setSlip(null); setError(null); }}>
            <option value="" />
            {waiting.map((e) => <option value={e.donor.id}>{e.donor.name} · {e.donor.birth_date}</option>)}
          </select>
        </label>
      </div>
      {/* Keyed by donor: every donor's form starts empty, nothing carries over. */}
      {donor && (!doc || !sex) && <p class="muted">{t("q_loading")}</p>}
      {donor && doc && sex && <DonorScreening key={donor} drive={drive} donor={donor} sex={sex} doc={doc} catalogue={catalogue}
        onSaved={(s) => { setSaved(s); setSlip(null); setDonor(null); }} onError={setError} />}
      {error && <p class="error" role="alert" id="screening-error">{error}</p>}
    </div>
  );
}

const EMPTY = { volume: "", weight: "", systolic: "", diastolic: "", pulse: "", temp: "", hb: "", alt: "", hbsag: "", hct: "", plt: "", abo: "", aboNote: "" };

function DonorScreening({ drive, donor, sex, doc, catalogue, onSaved, onError }: {
  drive: Drive; donor: string; sex: Sex; doc: QuestionnaireDoc; catalogue: DeferralChoice[];
  onSaved: (s: Saved) => void; onError: (e: string | null) => void;
}) {
  const [procedure, setProcedure] = useState<Procedure>("whole_blood");
  const [f, setF] = useState({ ...EMPTY });
  const [athlete, setAthlete] = useState(false);
  const [answers, setAnswers] = useState<Answers>({});
  const [findings, setFindings] = useState<Record<string, string>>({});
  const [restrictions, setRestrictions] = useState<string[]>([]);
  const [view, setView] = useState<ScreeningView | null>(null);
  const [deferCode, setDeferCode] = useState("");
  const [deferUntil, setDeferUntil] = useState("");
  const [waiverReason, setWaiverReason] = useState("");
  const [waiverPin, setWaiverPin] = useState("");
  // The donor's consent, signed on the consent panel before the decision.
  const [consent, setConsent] = useState<GivenConsent | null>(null);
  // The answers the donor brought in a pre-fill QR: the questionnaire starts from
  // `prefill.answers` (its `initial`); the rows are those answers in words.
  const [prefill, setPrefill] = useState<PrefilledView | null>(null);
  const [prefillRead, setPrefillRead] = useState(false);
  useEffect(() => {
    call("prefilled_answers", { driveId: drive.id, donorId: donor })
      .then(setPrefill).catch(() => setPrefill(null)).finally(() => setPrefillRead(true));
  }, [donor]);

  const form = (): ScreeningForm | null => {
    const vitals = { weight_kg: num(f.weight), systolic_mmhg: num(f.systolic), diastolic_mmhg: num(f.diastolic), pulse_bpm: num(f.pulse), temperature_c: num(f.temp) };
    if (Object.values(vitals).some(Number.isNaN) || Number.isNaN(num(f.hb))) return null;
    if (procedure === "whole_blood" && f.volume === "") return null;
    return {
      donor_id: donor, drive_id: drive.id, procedure,
      planned_volume_ml: procedure === "whole_blood" ? num(f.volume) : null,
      questionnaire_version: doc.version, answers,
      vitals,
      tests: {
        hemoglobin_g_l: num(f.hb), alt_u_l: Number.isNaN(num(f.alt)) ? null : num(f.alt),
        hbsag: f.hbsag === "" ? null : (f.hbsag as "negative" | "positive" | "not_done"),
        hematocrit: Number.isNaN(num(f.hct)) ? null : num(f.hct),
        platelet_count_10e9_l: Number.isNaN(num(f.plt)) ? null : num(f.plt),
        abo_rh: f.abo === "" ? null : (f.abo as NonNullable<ScreeningForm["tests"]["abo_rh"]>),
      },
      athlete, restrictions, review_findings: {},
      consent: consent?.consent ?? null, witness_pin: consent?.witnessPin ?? null,
      abo_rh_note: f.aboNote.trim() === "" ? null : f.aboNote,
    };
  };

  useEffect(() => {
    const current = form();
    if (!current) { setView(null); return; }
    const timer = setTimeout(() => {
      call("evaluate_screening", { form: current }).then((v) => { setView(v); onError(null); }).catch((e) => { setView(null); onError(errorText(e)); });
    }, 150);
    return () => clearTimeout(timer);
  }, [procedure, f, athlete, restrictions, answers]);

  // The core pre-selects the deferral the failing rules call for; a choice the store
  // would refuse for this decision is never kept.
  const choices = view?.deferral_choices ?? [];
  useEffect(() => {
    if (!view) return;
    if (!choices.some((c) => c.code === deferCode && c.allowed)) setDeferCode(choices.find((c) => c.preselected)?.code ?? "");
  }, [view]);

  const hbsagChosen = f.hbsag !== "";
  const record = async (kind: "accept" | "defer" | "override") => {
    const current = form();
    if (!current || !view) return;
    const decision = view.decision;
    // The findings of the answers under review now; one typed for an answer since
    // changed is not recorded.
    current.review_findings = Object.fromEntries(decision.review.map((r) => [r.question, findings[r.question] ?? ""]).filter(([, v]) => v.trim() !== ""));
    const physicianDecision: PhysicianDecision =
      kind === "accept" ? { kind: "accept" }
      : kind === "defer" ? { kind: "defer", code: deferCode, until: deferUntil || null }
      : { kind: "override", overridden_codes: decision.reasons.map((r) => r.code), reason: waiverReason };
    try {
      const screening = await call("record_screening", { form: current, decision: physicianDecision, waiverPin: kind === "override" ? waiverPin : null });
      onSaved({ text: `${t("saved")}: ${t(kind === "override" ? "waiver" : kind)}`, deferredScreening: kind === "defer" ? screening.id : null });
    } catch (e) { onError(errorText(e)); }
  };

  const field = (key: keyof typeof f, label: string, id: string) => (
    <label>{label}<input id={id} inputMode="decimal" value={f[key]} onInput={(e) => setF({ ...f, [key]: e.currentTarget.value })} /></label>
  );
  const chosen = choices.find((c) => c.code === deferCode);
  const matching = choices.filter((c) => c.allowed && c.matches);
  const others = choices.filter((c) => c.allowed && !c.matches);
  const scoped = catalogue.filter((c) => c.scope !== "all");
  const decision = view?.decision;
  // Accepting or waiving needs the physician's finding for every answer under review.
  const reviewed = (decision?.review ?? []).every((r) => (findings[r.question] ?? "").trim() !== "");
  const option = (c: DeferralChoice) => (
    <option value={c.code} data-permanent={String(c.permanent)}>
      {say(c.zh, c.en)} · {c.permanent ? t("permanent_exclusion") : c.until ? `${t("temporary_deferral")} → ${c.until}` : t("temporary_deferral")}
    </option>
  );

  const signed = consent !== null;
  return (
    <>
    <ConsentPanel value={consent} onChange={setConsent} />
    <div class="two-col">
      <div class="card">
        {prefill && (
          <div id="prefilled-answers">
            <h3>{t("prefill_answers")}</h3>
            <table><tbody>
              {prefill.rows.map((a) => (
                <tr data-question={a.question} class={a.defers || a.review ? "warn" : ""}>
                  <td>{say(a.text.zh, a.text.en)}</td><td class="answer">{say(a.answer.zh, a.answer.en)}</td><td>{a.defers ?? ""}</td>
                </tr>
              ))}
            </tbody></table>
          </div>
        )}
        {/* Mounted once the pre-filled answers are known: they are its starting answers,
            which the nurse goes through with the donor and changes where the donor corrects them. */}
        {prefillRead && (
          <Questionnaire doc={doc} sex={sex} onChange={setAnswers}
            initial={prefill && prefill.answers.version === doc.version ? prefill.answers.answers : undefined} />
        )}
        <div class="row">
          <label>{t("procedure")}
            <select id="procedure" value={procedure} onChange={(e) => setProcedure(e.currentTarget.value as Procedure)}>
              <option value="whole_blood">{t("whole_blood")}</option>
              <option value="apheresis_platelets">{t("apheresis_platelets")}</option>
              <option value="apheresis_plasma">{t("apheresis_plasma")}</option>
            </select>
          </label>
          {procedure === "whole_blood" && (
            <label>{t("planned_volume")}
              <select id="volume" value={f.volume} onChange={(e) => setF({ ...f, volume: e.currentTarget.value })}>
                <option value="" />
                {(options.value?.whole_blood_volumes_ml ?? []).map((v) => <option value={String(v)}>{v}</option>)}
              </select>
            </label>
          )}
        </div>
        <div class="grid3">
          {field("weight", t("weight"), "weight")}
          {field("systolic", t("systolic"), "systolic")}
          {field("diastolic", t("diastolic"), "diastolic")}
          {field("pulse", t("pulse"), "pulse")}
          {field("temp", t("temperature"), "temperature")}
          {field("hb", t("hemoglobin"), "hemoglobin")}
          {field("alt", t("alt"), "alt")}
          <label>{t("hbsag")}<select id="hbsag" value={f.hbsag} onChange={(e) => setF({ ...f, hbsag: e.currentTarget.value })}>
            <option value="">{t("choose_result")}</option>
            <option value="negative">{t("negative")}</option><option value="positive">{t("positive")}</option><option value="not_done">{t("not_tested")}</option></select></label>
          {procedure !== "whole_blood" && field("hct", t("hematocrit"), "hematocrit")}
          {procedure === "apheresis_platelets" && field("plt", t("platelets"), "platelets")}
          <label>{t("abo_rh")}<select id="abo-rh" value={f.abo} onChange={(e) => setF({ ...f, abo: e.currentTarget.value })}>
            <option value="">{t("abo_rh_none")}</option>
            {(options.value?.abo_rh_groups ?? []).map((g) => <option value={g}>{g}</option>)}</select></label>
        </div>
        {view?.abo_rh_mismatch && (
          <div class="decision">
            <p class="warn" id="abo-rh-mismatch" role="alert">{renderMessage(view.abo_rh_mismatch)}</p>
            <label>{t("abo_rh_note")}<input id="abo-rh-note" value={f.aboNote} onInput={(e) => setF({ ...f, aboNote: e.currentTarget.value })} /></label>
          </div>
        )}
        <label class="check"><input type="checkbox" id="athlete" checked={athlete} onChange={(e) => setAthlete(e.currentTarget.checked)} />{t("athlete")}</label>
        {scoped.length > 0 && (
          <fieldset id="restrictions">
            <legend>{t("restrictions")}</legend>
            {scoped.map((c) => (
              <label class="check"><input type="checkbox" data-restriction={c.code} checked={restrictions.includes(c.code)}
                onChange={(e) => setRestrictions(e.currentTarget.checked ? [...restrictions, c.code] : restrictions.filter((r) => r !== c.code))} />{say(c.zh, c.en)}</label>
            ))}
          </fieldset>
        )}
      </div>
      <div class="card" id="eligibility">
        <h2>{t("eligibility")}</h2>
        {!hbsagChosen && <p class="muted" id="hbsag-needed">{t("hbsag_needed")}</p>}
        {view && decision && (
          <>
            <p class={decision.eligible ? "verdict ok" : "verdict bad"} id="verdict">{decision.eligible ? t("eligible") : t("not_eligible")}</p>
            <ul class="reasons">
              {decision.reasons.map((r) => <li data-code={r.code} data-waivable={String(r.waivable)}>{renderMessage(r.message)}</li>)}
            </ul>
            {!decision.eligible && decision.eligible_from && <p>{t("eligible_from")}: <strong id="eligible-from">{decision.eligible_from}</strong></p>}
            {decision.excluded_products.length > 0 && (
              <p class="warn" id="excluded-products">{t("excluded_products")}: {decision.excluded_products.map((p) => className(p)).join("、")}</p>
            )}
            {decision.review.length > 0 && (
              <div class="review" id="review">
                <h3>{t("q_review_title")}</h3>
                {decision.review.map((r) => (
                  <div class="review-item" data-review={r.question}>
                    <p><strong>{say(r.text.zh, r.text.en)}</strong></p>
                    <p>{t("q_review_answer", { answer: say(r.answer.zh, r.answer.en) })}</p>
                    <label>{t("q_finding")}<input id={`finding-${r.question}`} maxLength={500} value={findings[r.question] ?? ""}
                      onInput={(e) => setFindings({ ...findings, [r.question]: e.currentTarget.value })} /></label>
                  </div>
                ))}
              </div>
            )}
            {!signed && (decision.eligible || view.waivable) && (
              <p class="warn" id="consent-needed">{renderMessage({ code: "donor_consent.missing", params: {} })}</p>
            )}
            {decision.eligible && <button class="primary big" id="accept" disabled={!reviewed || !hbsagChosen || !signed} onClick={() => record("accept")}>{t("accept")}</button>}
            <div class="decision">
              <label>{t("deferral_code")}
                <select id="defer-code" value={deferCode} onChange={(e) => setDeferCode(e.currentTarget.value)}>
                  <option value="" />
                  {matching.length > 0 && <optgroup label={t("matching_deferrals")}>{matching.map(option)}</optgroup>}
                  {others.length > 0 && <optgroup label={t("own_finding_deferrals")}>{others.map(option)}</optgroup>}
                </select>
              </label>
              {chosen?.needs_end_date && <label>{t("until")}<input type="date" id="defer-until" value={deferUntil} onInput={(e) => setDeferUntil(e.currentTarget.value)} /></label>}
              <button class="warn-button" id="defer" disabled={!deferCode || !hbsagChosen} onClick={() => record("defer")}>{t("defer")}</button>
            </div>
            {!decision.eligible && view.waivable && (
              <div class="decision" id="waiver">
                <p class="muted">{t("waiver_hint")}</p>
                <label>{t("waiver_reason")}<input id="waiver-reason" value={waiverReason} onInput={(e) => setWaiverReason(e.currentTarget.value)} /></label>
                <label>{t("waiver_pin")}<input id="waiver-pin" type="password" inputMode="numeric" autoComplete="off" value={waiverPin} onInput={(e) => setWaiverPin(e.currentTarget.value)} /></label>
                <button id="waive" disabled={waiverReason.trim() === "" || waiverPin === "" || !reviewed || !hbsagChosen || !signed} onClick={() => record("override")}>{t("waive")}</button>
              </div>
            )}
            {!decision.eligible && !view.waivable && (
              <p class="warn" id="no-override">{t("hard_stop_no_override")}: {view.hard_stops.map((r) => r.code).join(", ")}</p>
            )}
          </>
        )}
      </div>
    </div>
    </>
  );
}
