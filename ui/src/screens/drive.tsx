import { useEffect, useState } from "preact/hooks";
import { Drive, call, errorText } from "../api";
import { t } from "../i18n";

export function DriveScreen({ onChosen }: { onChosen: (d: Drive) => void }) {
  const [drives, setDrives] = useState<Drive[]>([]);
  const [site, setSite] = useState("");
  const [kind, setKind] = useState<"vehicle" | "donation_house">("vehicle");
  const [vehicle, setVehicle] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { call("todays_drives").then(setDrives).catch((e) => setError(errorText(e))); }, []);
  const start = async (e: Event) => {
    e.preventDefault();
    try {
      onChosen(await call("start_drive", { form: { site_name: site, site_kind: kind, vehicle: kind === "vehicle" ? vehicle : null } }));
    } catch (err) { setError(errorText(err)); }
  };
  return (
    <div class="screen narrow">
      <h1>{t("drive_title")}</h1>
      {drives.filter((d) => !d.ended_at).map((d) => (
        <div class="card row">
          <span><strong>{d.site_name}</strong> {d.vehicle ?? ""} · {d.date}</span>
          <button class="primary" data-resume={d.site_name} onClick={() => onChosen(d)}>{t("resume")}</button>
        </div>
      ))}
      <form class="card" onSubmit={start}>
        <h2>{t("new_drive")}</h2>
        <label>{t("site_name")}<input id="site-name" value={site} onInput={(e) => setSite(e.currentTarget.value)} /></label>
        <label>{t("site_kind")}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as never)}>
            <option value="vehicle">{t("vehicle")}</option>
            <option value="donation_house">{t("donation_house")}</option>
          </select>
        </label>
        {kind === "vehicle" && <label>{t("vehicle_plate")}<input id="vehicle" value={vehicle} onInput={(e) => setVehicle(e.currentTarget.value)} /></label>}
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" id="start-drive">{t("start")}</button>
      </form>
    </div>
  );
}
