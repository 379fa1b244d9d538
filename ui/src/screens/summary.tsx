import { useEffect, useState } from "preact/hooks";
import { DeferralChoice, Drive, DriveLabelAccount, DriveSummary, call, errorText } from "../api";
import { lang, t } from "../i18n";

export function Summary({ drive, onEnded }: { drive: Drive; onEnded: () => void }) {
  const [summary, setSummary] = useState<DriveSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [labels, setLabels] = useState<DriveLabelAccount | null>(null);
  const [catalogue, setCatalogue] = useState<DeferralChoice[]>([]);
  useEffect(() => { call("deferral_catalogue").then(setCatalogue).catch(() => {}); }, []);
  const reasonText = (code: string) => {
    const entry = catalogue.find((c) => c.code === code);
    return entry ? (lang.value === "en" ? entry.en : entry.zh) : code;
  };
  useEffect(() => { call("drive_label_account", { driveId: drive.id }).then(setLabels).catch(() => setLabels(null)); }, [drive.id]);
  useEffect(() => { call("drive_summary", { driveId: drive.id }).then(setSummary).catch((e) => setError(errorText(e))); }, [drive.id]);
  const end = async () => {
    try { await call("end_drive", { driveId: drive.id }); onEnded(); } catch (e) { setError(errorText(e)); }
  };
  const exportSummary = async () => {
    try { setExported(await call("export_drive_summary", { driveId: drive.id })); } catch (e) { setError(errorText(e)); }
  };
  if (!summary) return <div class="screen">{error}</div>;
  return (
    <div class="screen" id="summary">
      <h1>{t("summary_title")} · {drive.site_name}</h1>
      <dl class="facts">
        <dt>{t("donors_checked_in")}</dt><dd id="sum-checked-in">{summary.donors_checked_in}</dd>
        <dt>{t("donors_screened")}</dt><dd id="sum-screened">{summary.donors_screened}</dd>
        <dt>{t("reactions")}</dt><dd>{summary.reactions}</dd>
        <dt>{t("aborted")}</dt><dd>{summary.aborted}</dd>
        <dt>{t("still_on_chair")}</dt><dd>{summary.still_on_chair}</dd>
        <dt>{t("bags_not_dispatched")}</dt><dd id="sum-not-dispatched">{summary.bags_not_dispatched.join(", ") || "0"}</dd>
      </dl>
      <h2>{t("units_by_procedure")}</h2>
      <table id="sum-procedures"><tbody>
        {Object.entries(summary.by_procedure).map(([p, v]) => <tr data-procedure={p}><td>{t(p as never)}</td><td>{v.units} {t("units")}</td><td>{v.volume_ml} mL</td></tr>)}
      </tbody></table>
      <h2>{t("deferrals_by_reason")}</h2>
      <table id="sum-deferrals"><tbody>
        {Object.entries(summary.deferrals_by_code).map(([code, n]) => {
          // Temporary deferrals and permanent exclusions are told apart, as the catalogue says.
          const permanent = catalogue.find((c) => c.code === code)?.permanent ?? false;
          return <tr data-code={code} data-kind={permanent ? "permanent" : "temporary"}>
            <td>{reasonText(code)}</td><td>{permanent ? t("permanent_exclusion") : t("temporary_deferral")}</td><td>{n}</td></tr>;
        })}
      </tbody></table>
      {labels && (
        <>
          <h2>{t("label_account")}</h2>
          <dl class="facts" id="label-account">
            <dt>{t("labels_unverified")}</dt><dd id="labels-unverified">{labels.unverified.map((u) => u.din).join(", ") || "0"}</dd>
            <dt>{t("labels_unused")}</dt><dd id="labels-unused">{labels.unused_prints.length}</dd>
            <dt>{t("labels_superseded")}</dt><dd>{labels.superseded_prints.length}</dd>
            <dt>{t("labels_refused")}</dt><dd id="labels-refused">{labels.refused_scans.length}</dd>
            <dt>{t("labels_manual")}</dt><dd id="labels-manual">{labels.manual_entries.length === 0 ? "0" : labels.manual_entries.map((m) =>
              `${m.din ?? ""} ${m.piece ? `${m.piece.kind} ${m.piece.piece}` : ""} (${t("manual_mark")}: ${m.manual?.reason ?? ""})`).join("; ")}</dd>
            <dt>{t("dins_left")}</dt><dd>{labels.unissued_dins.reduce((a, r) => a + r.unused, 0)}</dd>
          </dl>
        </>
      )}
      {summary.bags_not_dispatched.length > 0 && (
        <p class="warn" id="not-dispatched-warning" role="status">
          ⚠ {t("not_dispatched_warning", { n: summary.bags_not_dispatched.length })}
        </p>
      )}
      <div class="row">
        <button id="export" onClick={exportSummary}>{t("export")}</button>
        <button class="warn-button" id="end-drive" onClick={end}>{t("end_drive")}</button>
      </div>
      {exported && <p class="ok" id="exported">{t("exported_to")} {exported}</p>}
      {exported && <p class="muted plaintext-note" id="exported-plaintext">{t("export_plaintext")}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
