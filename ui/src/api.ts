// Typed wrappers over the Tauri commands. The core owns every rule; these only carry data.
import { invoke } from "@tauri-apps/api/core";
import { hasKey, t } from "./i18n";
import { renderMessage } from "./messages";

// Every type the commands take or return is generated from the Rust types
// (src-tauri/src/bindings.rs): the contract is written once, in the core.
export type * from "./generated";
import type {
  AppStatus, AppointmentEntry, CommandError, ConsentView, DeferralChoice, DocumentCheck, Donation, Donor, DonorForm, DonorOverview,
  Drive, DriveForm, DriveLabelAccount, DriveSummary, FinishCollection, LabelView, LoggerImportView, ManifestView,
  ManualLabelEntry, ManualPackEntry, PhysicianDecision, PrefillView, PrefilledView, ProductClass, QueueEntry, Questionnaire, Role, ScreenOptions, Screening,
  ScreeningForm, ScreeningView, Staff, StartForm, SyncView, TransportView, Visit,
} from "./generated";

/** A record id (a UUID, as the generated types carry it). */
type Id = string;

/** Each command of `src-tauri/src/commands/`: its arguments (named as Tauri names them,
 * in camelCase) and its answer, in the generated types only. */
export interface Commands {
  app_status: [{}, AppStatus];
  unlock: [{ passphrase: string }, null];
  create_store: [{ passphrase: string }, null];
  lock_device: [{}, null];
  screen_options: [{}, ScreenOptions];
  list_staff: [{}, Staff[]];
  add_staff: [{ displayName: string; roles: Role[]; pin: string }, Staff];
  sign_in: [{ staffId: Id; pin: string }, Staff];
  sign_out: [{}, null];
  todays_drives: [{}, Drive[]];
  start_drive: [{ form: DriveForm }, Drive];
  end_drive: [{ driveId: Id }, Drive];
  sync_status: [{}, SyncView];
  sync_now: [{}, boolean];
  check_document: [{ kind: string; number: string }, DocumentCheck];
  find_donors: [{ query: string }, Donor[]];
  register_donor: [{ form: DonorForm }, Donor];
  donor_overview: [{ donorId: Id }, DonorOverview];
  check_in: [{ driveId: Id; donorId: Id; confirmation: string | null }, Visit];
  chair_queue: [{ driveId: Id }, QueueEntry[]];
  drive_appointments: [{ driveId: Id }, AppointmentEntry[]];
  read_prefill: [{ driveId: Id; text: string }, PrefillView];
  check_in_prefilled: [{ driveId: Id; text: string; confirmation: string | null }, Visit];
  prefilled_answers: [{ driveId: Id; donorId: Id }, PrefilledView | null];
  scan_camera: [{}, string];
  evaluate_screening: [{ form: ScreeningForm }, ScreeningView];
  record_screening: [{ form: ScreeningForm; decision: PhysicianDecision; waiverPin: string | null }, Screening];
  consent_text: [{}, ConsentView];
  deferral_catalogue: [{}, DeferralChoice[]];
  current_questionnaire: [{}, Questionnaire];
  save_deferral_slip: [{ screeningId: Id }, string];
  start_collection: [{ form: StartForm }, Donation];
  finish_collection: [{ form: FinishCollection }, Donation];
  volume_from_scale: [{ grossG: number; tareG: number }, number];
  label_status: [{ donationId: Id }, LabelView];
  print_labels: [{ donationId: Id; tubes: number }, LabelView];
  scan_label: [{ donationId: Id; text: string }, LabelView];
  manual_label_entry: [{ donationId: Id; entry: ManualLabelEntry }, LabelView];
  release_donation: [{ donationId: Id }, LabelView];
  label_previews: [{ donationId: Id }, string[]];
  drive_summary: [{ driveId: Id }, DriveSummary];
  export_drive_summary: [{ driveId: Id }, string];
  drive_label_account: [{ driveId: Id }, DriveLabelAccount];
  transport_view: [{ driveId: Id }, TransportView];
  open_box: [{ driveId: Id; code: string; class: ProductClass }, TransportView];
  pack_bag: [{ boxId: Id; text: string }, TransportView];
  pack_bag_manual: [{ boxId: Id; entry: ManualPackEntry }, TransportView];
  unpack_bag: [{ packingId: Id }, TransportView];
  record_temperature: [{ boxId: Id; celsius: number; measuredAt: string | null }, TransportView];
  import_logger_csv: [{ boxId: Id; fileName: string; text: string }, LoggerImportView];
  dispatch: [{ driveId: Id; pin: string }, ManifestView];
  manifest: [{ manifestId: Id }, ManifestView];
  save_manifest_pdf: [{ manifestId: Id }, string];
}

/** Calls a command with its arguments; the answer has the command's generated type. */
export const call = <K extends keyof Commands>(
  cmd: K,
  ...args: {} extends Commands[K][0] ? [args?: Commands[K][0]] : [args: Commands[K][0]]
): Promise<Commands[K][1]> => invoke<Commands[K][1]>(cmd, args[0] ?? {}).catch((e: unknown) => {
  // The core ended the session (idle time, a closed account, the lock): the app shows
  // the sign-in or unlock screen now rather than at its next look at the status.
  const code = (e as Partial<CommandError> | null)?.code;
  if (code && SESSION_ENDED.includes(code)) window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
  throw e;
});

/** Error codes that mean nobody may act any more until someone signs in or unlocks. */
const SESSION_ENDED = ["signed_out", "inactive", "device_locked"];
export const SESSION_ENDED_EVENT = "lifebridge-session-ended";

/** Errors whose core message names the bag, box, line or field: shown after the translated title. */
const SPECIFIC = [
  "scan_refused", "not_verified", "packing_refused", "product_excluded", "unreadable_scan", "unknown_din", "other_drive",
  "not_released", "already_packed", "box_dispatched", "duplicate_box", "nothing_to_dispatch", "logger_csv",
  "manual_refused", "hard_stop", "deferral_mismatch", "checkin_needs_confirmation",
  "not_scanned", "not_a_bag_label",
];

/** The core's own words for a refusal when it gave them (a pre-fill code's, the camera's),
 * else [`errorText`]: for the places where the catalogue message is the whole story. */
export function refusalText(e: unknown): string {
  const err = e as Partial<CommandError>;
  return err && err.text ? renderMessage(err.text) : errorText(e);
}

/** The text a person should read for a failed command, in the UI language. */
export function errorText(e: unknown): string {
  const err = e as Partial<CommandError>;
  if (err && typeof err.code === "string") {
    const key = `err_${err.code}`;
    const detail = (err.detail ?? {}) as Record<string, string | number>;
    // A closed account: the core's words name the account and what to do.
    if (err.code === "inactive" && err.text) return renderMessage(err.text);
    if (err.code === "forbidden" && typeof detail.role === "string" && hasKey(`role_${detail.role}`)) {
      return t("err_forbidden", { role: t(`role_${detail.role}` as never) });
    }
    // These carry the specifics (which label, which piece) in the core's own words.
    // `text` is that message from the catalogue, rendered in the screen's language.
    if (hasKey(key) && SPECIFIC.includes(err.code)) return `${t(key)}: ${err.text ? renderMessage(err.text) : err.message}`;
    if (hasKey(key) && err.code !== "invalid") return t(key, detail);
    return `${t("err_generic")}: ${err.text ? renderMessage(err.text) : err.message ?? err.code}`;
  }
  return `${t("err_generic")}: ${String(e)}`;
}
