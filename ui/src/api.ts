// Typed wrappers over the Tauri commands. The core owns every rule; these only carry data.
import { invoke } from "@tauri-apps/api/core";
import { hasKey, t } from "./i18n";

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
  next_eligible: string | null; eligible_today: boolean; probable_duplicates: Donor[];
}
export interface Screening { id: Id; donor_id: Id; procedure: Procedure; planned_volume_ml: number | null; decision: { kind: string } }
export type QueueStatus = "waiting" | "screened" | "deferred" | "on_chair" | "done";
export interface QueueEntry {
  visit: { id: Id; checked_in_at: string }; donor: Donor; status: QueueStatus;
  screening: Screening | null; donation: Donation | null;
}
export interface Reason { code: string; message_zh: string; message_en: string; eligible_from: string | null }
export interface Decision { eligible: boolean; reasons: Reason[]; eligible_from: string | null; rules_version: string }
export interface DeferralChoice { code: string; zh: string; en: string; permanent: boolean; needs_end_date: boolean }
export interface DriveSummary {
  drive: Drive; donors_checked_in: number; donors_screened: number;
  deferrals_by_code: Record<string, number>; by_procedure: Record<string, { units: number; volume_ml: number }>;
  aborted: number; reactions: number; still_on_chair: number;
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
export interface CommandError { code: string; field: string | null; message: string; detail: Record<string, unknown> | null }

export interface ScreeningForm {
  donor_id: Id; drive_id: Id; procedure: Procedure; planned_volume_ml: number | null;
  questionnaire_version: string; answers: Record<string, unknown>;
  vitals: { weight_kg: number; systolic_mmhg: number; diastolic_mmhg: number; pulse_bpm: number; temperature_c: number };
  tests: { hemoglobin_g_l: number | null; alt_u_l: number | null; hbsag: "negative" | "positive" | null; hematocrit: number | null; platelet_count_10e9_l: number | null };
  athlete: boolean;
}

export const call = <T>(cmd: string, args: Record<string, unknown> = {}) => invoke<T>(cmd, args);

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
    if (hasKey(key) && (err.code === "scan_refused" || err.code === "not_verified")) return `${t(key)}: ${err.message}`;
    if (hasKey(key) && err.code !== "invalid") return t(key, detail);
    return `${t("err_generic")}: ${err.message ?? err.code}`;
  }
  return `${t("err_generic")}: ${String(e)}`;
}
