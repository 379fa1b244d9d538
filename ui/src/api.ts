// Typed wrappers over the Tauri commands. The core owns every rule; these only carry data.
import { invoke } from "@tauri-apps/api/core";
import { hasKey, t } from "./i18n";
import { renderMessage } from "./messages";

// Every type the commands take or return is generated from the Rust types
// (src-tauri/src/bindings.rs): the contract is written once, in the core.
export type * from "./generated";
import type { CommandError } from "./generated";

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
    // `text` is that message from the catalogue, rendered in the screen's language.
    if (hasKey(key) && SPECIFIC.includes(err.code)) return `${t(key)}: ${err.text ? renderMessage(err.text) : err.message}`;
    if (hasKey(key) && err.code !== "invalid") return t(key, detail);
    return `${t("err_generic")}: ${err.text ? renderMessage(err.text) : err.message ?? err.code}`;
  }
  return `${t("err_generic")}: ${String(e)}`;
}
