// The manual path for a label that will not scan, the same at the chair and at packing:
// the DIN typed with its check character, a reason, and a second crew member who
// confirms with their PIN. The store decides; this form only collects the four fields.
import { Staff } from "./api";
import { t } from "./i18n";

export interface ManualEntry { typed: string; reason: string; witness: string; pin: string }

export const emptyManualEntry = (): ManualEntry => ({ typed: "", reason: "", witness: "", pin: "" });

/** The form; element ids are `${idPrefix}-form`, `-din`, `-reason`, `-witness`, `-pin`,
 * `-submit` and `-cancel` (the e2e tests and the scan field's focus rule use them). */
export function ManualEntryForm<T extends ManualEntry>(props: {
  idPrefix: string;
  hint: preact.ComponentChildren;
  entry: T;
  crew: Staff[];
  onChange: (entry: T) => void;
  onSubmit: (e: Event) => void;
  onCancel: () => void;
}) {
  const { idPrefix: id, entry, onChange } = props;
  return (
    <form id={`${id}-form`} class="manual-form" onSubmit={props.onSubmit}>
      <p class="hint">{props.hint}</p>
      <label>{t("manual_din")}<input id={`${id}-din`} autoComplete="off" value={entry.typed} onInput={(e) => onChange({ ...entry, typed: e.currentTarget.value })} /></label>
      <label>{t("manual_reason")}<input id={`${id}-reason`} value={entry.reason} onInput={(e) => onChange({ ...entry, reason: e.currentTarget.value })} /></label>
      <label>{t("manual_witness")}<select id={`${id}-witness`} value={entry.witness} onChange={(e) => onChange({ ...entry, witness: e.currentTarget.value })}>
        <option value="" />
        {props.crew.map((s) => <option value={s.id}>{s.display_name}</option>)}</select></label>
      <label>{t("pin")}<input id={`${id}-pin`} type="password" inputMode="numeric" autoComplete="off" value={entry.pin} onInput={(e) => onChange({ ...entry, pin: e.currentTarget.value })} /></label>
      <div class="row">
        <button class="primary" id={`${id}-submit`} type="submit">{t("manual_confirm")}</button>
        <button type="button" id={`${id}-cancel`} onClick={props.onCancel}>{t("manual_cancel")}</button>
      </div>
    </form>
  );
}
