// Typed wrappers over the Tauri commands. The core owns every rule; these only carry data.
import { invoke } from "@tauri-apps/api/core";
import { hasKey, t } from "./i18n";
import { type Message, renderMessage } from "./messages";

export type Id = string;
export type Role = "registration" | "physician" | "phlebotomist" | "driver" | "supervisor";
export type Procedure = "whole_blood" | "apheresis_platelets" | "apheresis_plasma";
export type Sex = "male" | "female";

export interface Staff { id: Id; display_name: string; roles: Role[]; active: boolean }
export interface AppStatus { unlocked: boolean; device_name: string; staff: Staff | null; today: string }
export interface Drive {
  id: Id; site_name: string; site_kind: "vehicle" | "donation_house"; vehicle: string | null;
  date: string; crew: Id[]; started_at: string; ended_at: string | null;
}
export interface Donor {
  id: Id; document: { kind: string; number: string }; name: string; sex: Sex; birth_date: string;
  phone: string | null; address: string | null; abo_rh: string | null; rural: boolean | null;
}
export interface Donation {
  id: Id; donor_id: Id; din: string; procedure: Procedure; planned_volume_ml: number;
  collected_volume_ml: number | null; started_at: string; ended_at: string | null;
  outcome: "in_progress" | "complete" | "partial" | "aborted"; bag_set: { kind: string; lot: string };
  reactions: unknown[];
}
export interface Deferral { id: Id; code: string; reason: string; start: string; until: string | null }
export interface DonorOverview {
  donor: Donor; donations: Donation[]; active_deferrals: Deferral[]; cumulative_volume_ml: number;
  next_eligible: string | null; eligible_today: boolean; check_in: CheckInStatus; probable_duplicates: Donor[];
}
export interface Screening { id: Id; donor_id: Id; procedure: Procedure; planned_volume_ml: number | null; decision: { kind: string } }
export type QueueStatus = "waiting" | "screened" | "deferred" | "on_chair" | "done";
export interface QueueEntry {
  visit: { id: Id; checked_in_at: string }; donor: Donor; status: QueueStatus;
  screening: Screening | null; donation: Donation | null; excluded_products: ProductClass[];
}
export interface Reason {
  /** What the screen says: render with renderMessage (ui/src/messages.ts). */
  code: string; message: Message; eligible_from: string | null;
  /** The rules table lets a physician waive it; every other failing rule is a hard stop. */
  waivable: boolean; deferral_code?: string;
}
export interface Decision {
  eligible: boolean; reasons: Reason[]; eligible_from: string | null; rules_version: string;
  excluded_products: ProductClass[];
}
/** One catalogue entry as the core offers it for a decision. */
export interface DeferralChoice {
  code: string; zh: string; en: string; permanent: boolean; needs_end_date: boolean;
  scope: "all" | { products: ProductClass[] }; waivable: boolean; until: string | null;
  matches: boolean; preselected: boolean; allowed: boolean;
}
export interface ScreeningView { decision: Decision; hard_stops: Reason[]; waivable: boolean; deferral_choices: DeferralChoice[] }
export interface CheckInStatus { eligible_today: boolean; next_eligible: string | null; reasons: Reason[] }
export interface DriveSummary {
  drive: Drive; donors_checked_in: number; donors_screened: number;
  deferrals_by_code: Record<string, number>; by_procedure: Record<string, { units: number; volume_ml: number }>;
  aborted: number; reactions: number; still_on_chair: number;
  /** Collected bags no signed transport manifest carries yet. */
  bags_not_dispatched: string[];
}
export interface SyncStatus {
  configured: boolean; pending: number; last_success: string | null; last_error: string | null;
  clock_skew_seconds: number | null; syncing: boolean;
}
export interface Appointment {
  id: Id; date: string; site_name: string; time: string | null; document: { kind: string; number: string };
  name: string; phone: string | null; procedure: Procedure; note: string | null; cancelled: boolean;
}
export interface AppointmentEntry { appointment: Appointment; donor: Donor | null; arrived: boolean }
export type ProductClass = "red_cell_whole_blood" | "platelet_whole_blood" | "apheresis_platelets" | "apheresis_plasma";
/** A box class with the band and time limit of the rules table in force (the core's option list). */
export interface ClassOption { class: ProductClass; name_zh: string; name_en: string; range: TemperatureRange; processing_limit_hours: number }
export type UnitStatus = "suitable" | "downgraded" | "quarantined";
/** What a unit may still become, with every finding behind it (computed by the core). */
export interface UnitAssessment { status: UnitStatus; findings: { kind: string }[] }
export interface TemperatureRange { min_c: number; max_c: number }
export interface TransportBox { id: Id; code: string; class: ProductClass; range: TemperatureRange; drive_id: Id; opened_at: string }
export interface BoxPacking {
  id: Id; box_id: Id; donation_id: Id; din: string; packed_at: string; removes: Id | null;
  /** Present when the DIN was typed (manual entry) instead of scanned. */
  manual?: { reason: string; authorised_by: Id };
}
export interface TemperatureReading {
  id: Id; box_id: Id; measured_at: string; celsius: number;
  source: { kind: "manual" } | { kind: "logger"; file_name: string };
}
export interface Excursion { from: string; to: string; extreme_c: number; readings: number }
export interface BoxView {
  transport_box: TransportBox; bags: { packing: BoxPacking; donation: Donation; abo_rh: string | null }[];
  readings: TemperatureReading[]; excursions: Excursion[]; manifest_id: Id | null;
}
export interface ManifestCounts {
  bags: number; boxes: number; boxes_with_excursions: number; downgraded: number; quarantined: number;
  by_class: { class: ProductClass; bags: number }[]; by_abo_rh: { abo_rh: string; bags: number }[];
}
export interface ManifestBag {
  din: string; procedure: Procedure; abo_rh: string | null; collected_volume_ml: number | null; collected_at: string;
  /** Omitted when the unit is suitable. */
  unit?: UnitAssessment;
  /** Labels typed (manual entry) instead of scanned, at the chair or packing; omitted when none. */
  manual_labels?: { kind: string; piece: number }[];
}
export interface ManifestBox {
  box_id: Id; code: string; class: ProductClass; range: TemperatureRange; bags: ManifestBag[];
  first_collection_at: string | null; readings: { at: string; celsius: number }[]; excursions: Excursion[];
}
export interface Manifest {
  id: Id; drive_id: Id; site_name: string; vehicle: string | null; drive_date: string;
  driver: { staff_id: Id; name: string }; dispatched_at: string; boxes: ManifestBox[]; rules_version: string;
}
/** A unit that is not suitable as collected, with the core's words for why. */
export interface UnitLine { din: string; status: UnitStatus; text: Message }
export interface SignedManifest { manifest: Manifest; counts: ManifestCounts; units: UnitLine[] }
export interface TransportView {
  drive: Drive; boxes: BoxView[];
  unpacked: { donation: Donation; allowed: ProductClass[]; refusal: Message | null; unit: UnitAssessment; unit_text: Message }[];
  preview: SignedManifest | null; manifests: SignedManifest[]; classes: ClassOption[];
}
export interface Handoff {
  id: Id; manifest_ids: Id[]; site_name: string; receiver: { staff_id: Id; name: string };
  driver: { staff_id: Id; name: string }; signed_at: string; received: string[];
  tally: { expected: number; received: number; missing: number; extra: number; wrong_box: number; excursion: number; over_time_limit: number };
  discrepancies: { din: string; status: string; reason: string }[];
  /** One decision per box that left its range (absent on older records). */
  box_decisions?: { excursion: { box_code: string; bags: string[] }; reason: string }[];
}
export interface ManifestView { signed: SignedManifest; qr_texts: string[]; qr_svgs: string[]; handoffs: Handoff[] }
export interface LoggerImport { imported: number; skipped: number; excursions: Excursion[] }

export interface CommandError {
  code: string; field: string | null; message: string; detail: Record<string, unknown> | null;
  /** The core's own words for the specifics, from the message catalogue. */
  text?: Message;
}

export interface ScreeningForm {
  donor_id: Id; drive_id: Id; procedure: Procedure; planned_volume_ml: number | null;
  questionnaire_version: string; answers: Record<string, unknown>;
  vitals: { weight_kg: number; systolic_mmhg: number; diastolic_mmhg: number; pulse_bpm: number; temperature_c: number };
  tests: { hemoglobin_g_l: number | null; alt_u_l: number | null; hbsag: "negative" | "positive" | "not_done" | null; hematocrit: number | null; platelet_count_10e9_l: number | null };
  athlete: boolean; restrictions: string[];
}

export const call = <T>(cmd: string, args: Record<string, unknown> = {}) => invoke<T>(cmd, args);

/** Errors whose core message names the bag, box, line or field: shown after the translated title. */
const SPECIFIC = [
  "scan_refused", "not_verified", "packing_refused", "product_excluded", "unreadable_scan", "unknown_din", "other_drive",
  "not_released", "already_packed", "box_dispatched", "duplicate_box", "nothing_to_dispatch", "logger_csv",
  "manual_refused", "hard_stop", "deferral_mismatch", "checkin_needs_confirmation",
  "not_scanned", "not_a_bag_label",
];

/** The text a person should read for a failed command, in the UI language. */
export function errorText(e: unknown): string {
  const err = e as Partial<CommandError>;
  if (err && typeof err.code === "string") {
    const key = `err_${err.code}`;
    const detail = (err.detail ?? {}) as Record<string, string | number>;
    if (err.code === "forbidden" && typeof detail.role === "string" && hasKey(`role_${detail.role}`)) {
      return t("err_forbidden", { role: t(`role_${detail.role}` as never) });
    }
    // These carry the specifics (which label, which piece) in the core's own words.
    if (hasKey(key) && SPECIFIC.includes(err.code)) return `${t(key)}: ${err.text ? renderMessage(err.text) : err.message}`;
    if (hasKey(key) && err.code !== "invalid") return t(key, detail);
    return `${t("err_generic")}: ${err.message ?? err.code}`;
  }
  return `${t("err_generic")}: ${String(e)}`;
}
