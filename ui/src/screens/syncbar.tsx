import { useEffect, useState } from "preact/hooks";
import { listen } from "@tauri-apps/api/event";
import { SyncView, call } from "../api";
import { clockTime, t } from "../i18n";
import { renderMessage } from "../messages";

/** Always visible: what is waiting to go to the station and how the last try went. */
export function SyncBar() {
  const [status, setStatus] = useState<SyncView | null>(null);
  useEffect(() => {
    const load = () => call("sync_status").then(setStatus).catch(() => {});
    load();
    const timer = setInterval(load, 2000);
    // An event means the replicator moved: ask the core for the whole picture.
    const unlisten = listen<SyncView>("sync-status", () => load());
    return () => { clearInterval(timer); unlisten.then((f) => f()); };
  }, []);
  if (!status) return null;
  const state = status.syncing ? "syncing" : status.last_error ? "offline" : status.last_success ? "ok" : "idle";
  return (
    <span class={`syncbar ${state}`} id="sync-status" data-pending={status.pending} data-state={state}>
      <span>{t("pending")}: <strong id="sync-pending">{status.pending}</strong></span>
      <span>{t("last_sync")}: <span id="sync-last">{status.last_success ? clockTime(status.last_success) : t("never")}</span></span>
      {status.last_error && <span class="warn" title={status.last_error}>{t("sync_offline")}</span>}
      {status.unreachable && <span class="warn" id="sync-unreachable">{renderMessage(status.unreachable)}</span>}
      {status.refusal && <span class="warn" id="sync-refused">{renderMessage(status.refusal)}</span>}
      {status.clock_skew_seconds !== null && <span class="warn" id="clock-skew">{t("clock_skew", { s: status.clock_skew_seconds })}</span>}
      {status.configured && <button class="ghost" id="sync-now" onClick={() => call("sync_now")}>{t("sync_now")}</button>}
    </span>
  );
}
