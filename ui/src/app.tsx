import { useEffect, useState } from "preact/hooks";
import { AppStatus, Drive, SESSION_ENDED_EVENT, Staff, call, errorText } from "./api";
import { lang, setLang, t } from "./i18n";
import { loadOptions, options } from "./options";
import { CheckIn } from "./screens/checkin";
import { Collection } from "./screens/collection";
import { DriveScreen } from "./screens/drive";
import { Queue } from "./screens/queue";
import { Screening } from "./screens/screening";
import { SetUp, SignIn, Unlock } from "./screens/signin";
import { Summary } from "./screens/summary";
import { SyncBar } from "./screens/syncbar";
import { StaffScreen } from "./screens/staff";
import { Transport } from "./screens/transport";

export type Tab = "checkin" | "queue" | "screening" | "collection" | "transport" | "summary" | "staff";

/** Which tabs a role sees; the command layer refuses the rest as well. */
function tabsFor(staff: Staff): Tab[] {
  const has = (r: string) => staff.roles.includes(r as never) || staff.roles.includes("supervisor");
  const tabs: Tab[] = [];
  if (has("registration")) tabs.push("checkin");
  tabs.push("queue");
  if (has("physician")) tabs.push("screening");
  if (has("phlebotomist")) tabs.push("collection");
  if (has("driver")) tabs.push("transport");
  tabs.push("summary");
  if (staff.roles.includes("supervisor")) tabs.push("staff");
  return tabs;
}

export function App() {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [drive, setDrive] = useState<Drive | null>(null);
  const [tab, setTab] = useState<Tab>("queue");
  const [focusDonor, setFocusDonor] = useState<string | null>(null);
  lang.value; // re-render on language change

  const refresh = () =>
    call("app_status").then(setStatus).catch((e) => setError(errorText(e)));
  useEffect(() => { refresh(); }, []);
  // The core signs a person out after the idle time; looking regularly shows the
  // sign-in screen then, not only at the next command.
  useEffect(() => {
    const timer = setInterval(refresh, 15_000);
    window.addEventListener(SESSION_ENDED_EVENT, refresh);
    return () => { clearInterval(timer); window.removeEventListener(SESSION_ENDED_EVENT, refresh); };
  }, []);
  // Whoever signs in next picks their own drive.
  useEffect(() => { if (status && !status.staff) setDrive(null); }, [status?.staff?.id]);
  // The screens' options come from the core once the store is open.
  useEffect(() => { if (status?.unlocked) loadOptions().catch((e) => setError(errorText(e))); }, [status?.unlocked]);

  if (!status) return <div class="screen center">{error ?? "…"}</div>;

  const header = (
    <header class="topbar">
      <span class="brand">{t("app_name")}</span>
      <span class="muted">{t("device")}: <span id="device-name">{status.device_name}</span></span>
      {drive && <span data-testid="current-drive">{drive.site_name} · {drive.date}</span>}
      <span class="spacer" />
      {status.unlocked && <SyncBar />}
      {status.staff && <span data-testid="signed-in-as" title={t("idle_hint", { minutes: status.idle_minutes })}>{status.staff.display_name}</span>}
      {status.staff && (
        <button class="ghost" id="sign-out" onClick={async () => {
          await call("sign_out"); setDrive(null); refresh();
        }}>{t("sign_out")}</button>
      )}
      {status.unlocked && (
        <button class="ghost" id="lock-device" onClick={async () => {
          await call("lock_device"); setDrive(null); refresh();
        }}>{t("lock_device")}</button>
      )}
      <button class="ghost" id="lang" onClick={() => setLang(lang.value === "zh-CN" ? "en" : "zh-CN")}>{t("lang_switch")}</button>
    </header>
  );

  let body;
  if (!status.store_exists) body = <SetUp path={status.store_path} deviceName={status.device_name} onCreated={refresh} />;
  else if (!status.unlocked) body = <Unlock onUnlocked={refresh} />;
  else if (!status.staff) body = <SignIn onSignedIn={(s) => { setTab(tabsFor(s)[0]); refresh(); }} />;
  else if (!drive) body = <DriveScreen onChosen={setDrive} />;
  else if (!options.value) body = <div class="screen center">{error ?? "…"}</div>;
  else {
    const tabs = tabsFor(status.staff);
    const go = (next: Tab, donorId?: string) => { setFocusDonor(donorId ?? null); setTab(next); };
    body = (
      <>
        <nav class="tabs">
          {tabs.map((name) => (
            <button id={`tab-${name}`} class={name === tab ? "tab active" : "tab"} onClick={() => go(name)}>
              {t(`tab_${name}` as never)}
            </button>
          ))}
        </nav>
        <main class="content">
          {tab === "checkin" && <CheckIn drive={drive} />}
          {tab === "queue" && <Queue drive={drive} staff={status.staff} go={go} />}
          {tab === "screening" && <Screening drive={drive} donorId={focusDonor} />}
          {tab === "collection" && <Collection drive={drive} donorId={focusDonor} />}
          {tab === "transport" && <Transport drive={drive} />}
          {tab === "summary" && <Summary drive={drive} onEnded={() => setDrive(null)} />}
          {tab === "staff" && <StaffScreen />}
        </main>
      </>
    );
  }
  return (
    <div class="shell">
      {header}
      {body}
    </div>
  );
}
