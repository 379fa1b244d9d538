import { useEffect, useState } from "preact/hooks";
import { Decision, DeferralChoice, Drive, Procedure, QueueEntry, ScreeningForm, call, errorText } from "../api";
import { lang, t } from "../i18n";

const QUESTIONNAIRE_VERSION = "GB18467-2011-Q1";

const num = (s: string) => (s.trim() === "" ? NaN : Number(s));

export function Screening({ drive, donorId }: { drive: Drive; donorId: string | null }) {
  const [waiting, setWaiting] = useState<QueueEntry[]>([]);
  const [donor, setDonor] = useState<string | null>(donorId);
  const [procedure, setProcedure] = useState<Procedure>("whole_blood");
  const [f, setF] = useState({ volume: "400", weight: "", systolic: "", diastolic: "", pulse: "", temp: "", hb: "", alt: "", hbsag: "negative", hct: "", plt: "" });
  const [athlete, setAthlete] = useState(false);
  const [questionnaire, setQuestionnaire] = useState(false);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [catalogue, setCatalogue] = useState<DeferralChoice[]>([]);
  const [deferCode, setDeferCode] = useState("");
  const [deferUntil, setDeferUntil] = useState("");
  const [overrideReason, setOverrideReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    call<QueueEntry[]>("chair_queue", { driveId: drive.id }).then((q) => setWaiting(q.filter((e) => e.status === "waiting"))).catch((e) => setError(errorText(e)));
    call<DeferralChoice[]>("deferral_catalogue").then(setCatalogue).catch(() => {});
  }, [drive.id, saved]);

  const form = (): ScreeningForm | null => {
    if (!donor) return null;
    const vitals = { weight_kg: num(f.weight), systolic_mmhg: num(f.systolic), diastolic_mmhg: num(f.diastolic), pulse_bpm: num(f.pulse), temperature_c: num(f.temp) };
    if (Object.values(vitals).some(Number.isNaN) || Number.isNaN(num(f.hb))) return null;
    return {
      donor_id: donor, drive_id: drive.id, procedure,
      planned_volume_ml: procedure === "whole_blood" ? num(f.volume) : null,
      questionnaire_version: QUESTIONNAIRE_VERSION, answers: { no_findings: questionnaire },
      vitals,
      tests: {
        hemoglobin_g_l: num(f.hb), alt_u_l: Number.isNaN(num(f.alt)) ? null : num(f.alt),
        hbsag: f.hbsag === "" ? null : (f.hbsag as "negative" | "positive"),
        hematocrit: Number.isNaN(num(f.hct)) ? null : num(f.hct),
        platelet_count_10e9_l: Number.isNaN(num(f.plt)) ? null : num(f.plt),
      },
      athlete,
    };
  };

  useEffect(() => {
    const current = form();
    if (!current) { setDecision(null); return; }
    const timer = setTimeout(() => {
      call<Decision>("evaluate_screening", { form: current }).then((d) => { setDecision(d); setError(null); }).catch((e) => { setDecision(null); setError(errorText(e)); });
    }, 150);
    return () => clearTimeout(timer);
  }, [donor, procedure, f, athlete]);

  const record = async (kind: "accept" | "defer" | "override") => {
    const current = form();
    if (!current || !decision) return;
    const physicianDecision =
      kind === "accept" ? { kind: "accept" }
      : kind === "defer" ? { kind: "defer", code: deferCode, until: deferUntil || null }
      : { kind: "override", overridden_codes: decision.reasons.map((r) => r.code), reason: overrideReason };
    try {
      await call("record_screening", { form: current, decision: physicianDecision });
      setSaved(`${t("saved")}: ${t(kind)}`);
      setDonor(null); setDecision(null);
      setF({ volume: "400", weight: "", systolic: "", diastolic: "", pulse: "", temp: "", hb: "", alt: "", hbsag: "negative", hct: "", plt: "" });
    } catch (e) { setError(errorText(e)); }
  };

  const field = (key: keyof typeof f, label: string, id: string) => (
    <label>{label}<input id={id} inputMode="decimal" value={f[key]} onInput={(e) => setF({ ...f, [key]: e.currentTarget.value })} /></label>
  );
  const chosenCode = catalogue.find((c) => c.code === deferCode);

  return (
    <div class="screen">
      <h1>{t("screening_title")}</h1>
      {saved && <p class="ok" role="status" id="screening-saved">{saved}</p>}
      <div class="card">
        <label>{t("choose_donor")}
          <select id="screen-donor" key={saved ?? "choosing"} value={donor ?? ""} onChange={(e) => { setDonor(e.currentTarget.value || null); setSaved(null); }}>
            <option value="" />
            {waiting.map((e) => <option value={e.donor.id}>{e.donor.name} · {e.donor.birth_date}</option>)}
          </select>
        </label>
      </div>
      {donor && (
        <div class="two-col">
          <div class="card">
            <label class="check"><input type="checkbox" id="questionnaire" checked={questionnaire} onChange={(e) => setQuestionnaire(e.currentTarget.checked)} />{t("questionnaire_ok")}</label>
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
                    {["200", "300", "400"].map((v) => <option value={v}>{v}</option>)}
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
                <option value="negative">{t("negative")}</option><option value="positive">{t("positive")}</option><option value="">{t("not_tested")}</option></select></label>
              {procedure !== "whole_blood" && field("hct", t("hematocrit"), "hematocrit")}
              {procedure !== "whole_blood" && field("plt", t("platelets"), "platelets")}
            </div>
            <label class="check"><input type="checkbox" checked={athlete} onChange={(e) => setAthlete(e.currentTarget.checked)} />{t("athlete")}</label>
          </div>
          <div class="card" id="eligibility">
            <h2>{t("eligibility")}</h2>
            {decision && (
              <>
                <p class={decision.eligible ? "verdict ok" : "verdict bad"} id="verdict">{decision.eligible ? t("eligible") : t("not_eligible")}</p>
                <ul class="reasons">
                  {decision.reasons.map((r) => <li data-code={r.code}>{lang.value === "en" ? r.message_en : r.message_zh}</li>)}
                </ul>
                {!decision.eligible && decision.eligible_from && <p>{t("eligible_from")}: <strong id="eligible-from">{decision.eligible_from}</strong></p>}
                {decision.eligible && <button class="primary big" id="accept" disabled={!questionnaire} onClick={() => record("accept")}>{t("accept")}</button>}
                <div class="decision">
                  <label>{t("deferral_code")}
                    <select id="defer-code" value={deferCode} onChange={(e) => setDeferCode(e.currentTarget.value)}>
                      <option value="" />
                      {catalogue.map((c) => <option value={c.code}>{lang.value === "en" ? c.en : c.zh}</option>)}
                    </select>
                  </label>
                  {chosenCode?.needs_end_date && <label>{t("until")}<input type="date" value={deferUntil} onInput={(e) => setDeferUntil(e.currentTarget.value)} /></label>}
                  <button class="warn-button" id="defer" disabled={!deferCode} onClick={() => record("defer")}>{t("defer")}</button>
                </div>
                {!decision.eligible && (
                  <div class="decision">
                    <label>{t("override_reason")}<input id="override-reason" value={overrideReason} onInput={(e) => setOverrideReason(e.currentTarget.value)} /></label>
                    <button id="override" disabled={overrideReason.trim() === ""} onClick={() => record("override")}>{t("override")}</button>
                  </div>
                )}
              </>
            )}
          </div>
        </div>
      )}
      {error && <p class="error" role="alert" id="screening-error">{error}</p>}
    </div>
  );
}
