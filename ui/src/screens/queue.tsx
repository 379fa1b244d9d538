import { useEffect, useState } from "preact/hooks";
import { useReloadAfterSync } from "../sync";
import { Drive, QueueEntry, Staff, call, errorText } from "../api";
import { clockTime, t } from "../i18n";
import type { Tab } from "../app";

export function Queue({ drive, staff, go }: { drive: Drive; staff: Staff; go: (tab: Tab, donor?: string) => void }) {
  const [entries, setEntries] = useState<QueueEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = () => call("chair_queue", { driveId: drive.id }).then(setEntries).catch((e) => setError(errorText(e)));
  useEffect(() => {
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [drive.id]);
  // What another tablet of the bus recorded shows as soon as a sync brings it.
  useReloadAfterSync(load, [drive.id]);
  const can = (r: string) => staff.roles.includes(r as never) || staff.roles.includes("supervisor");
  return (
    <div class="screen">
      <h1>{t("queue_title")}</h1>
      {error && <p class="error">{error}</p>}
      {entries.length === 0 ? <p class="muted">{t("queue_empty")}</p> : (
        <table id="queue"><tbody>
          {entries.map((e) => (
            <tr data-donor={e.donor.name} data-status={e.status}>
              <td>{e.donor.name}</td>
              <td class="muted">{clockTime(e.visit.checked_in_at)}</td>
              <td><span class={`status ${e.status}`}>{t(`status_${e.status}` as never)}</span></td>
              <td>{e.donation?.din ?? ""}</td>
              <td class="muted recorded-by">{[e.recorded_by, e.recorded_elsewhere ? t("queue_other_tablet") : null].filter(Boolean).join(" · ")}</td>
              <td>
                {e.status === "waiting" && can("physician") && <button onClick={() => go("screening", e.donor.id)}>{t("screen")}</button>}
                {(e.status === "screened" || e.status === "on_chair") && can("phlebotomist") && <button onClick={() => go("collection", e.donor.id)}>{t("collect")}</button>}
              </td>
            </tr>
          ))}
        </tbody></table>
      )}
    </div>
  );
}
