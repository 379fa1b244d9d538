import { useEffect } from "preact/hooks";
import { listen } from "@tauri-apps/api/event";
import { SyncView } from "./api";

/**
 * Calls `reload` after each sync that completed while the screen is shown: records the
 * station sends (a signed hand-off, an account it issued) appear without reopening it.
 */
export function useReloadAfterSync(reload: () => void, deps: unknown[]) {
  useEffect(() => {
    let lastSuccess: string | null = null;
    const unlisten = listen<SyncView>("sync-status", (e) => {
      const done = e.payload.last_success;
      if (e.payload.syncing || !done || done === lastSuccess) return;
      lastSuccess = done;
      reload();
    });
    return () => { unlisten.then((f) => f()); };
  }, deps);
}
