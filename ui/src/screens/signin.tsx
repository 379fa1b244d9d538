import { useEffect, useState } from "preact/hooks";
import { Staff, call, errorText } from "../api";
import { useReloadAfterSync } from "../sync";
import { t } from "../i18n";

export function Unlock({ onUnlocked }: { onUnlocked: () => void }) {
  const [passphrase, setPassphrase] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try { await call("unlock", { passphrase }); onUnlocked(); } catch (err) { setError(errorText(err)); }
  };
  return (
    <form class="screen narrow" onSubmit={submit}>
      <h1>{t("unlock_title")}</h1>
      <p class="muted">{t("unlock_hint")}</p>
      <label>{t("passphrase")}
        <input id="passphrase" type="password" autoFocus value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" type="submit">{t("unlock")}</button>
    </form>
  );
}

/** First-run set-up: only when there is no store at the configured path, and only when
 * asked, saying what it will create (a missing store is never replaced silently). */
export function SetUp({ path, deviceName, onCreated }: { path: string; deviceName: string; onCreated: () => void }) {
  const [passphrase, setPassphrase] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (passphrase !== again) { setError(t("err_passphrases_differ")); return; }
    try { await call("create_store", { passphrase }); onCreated(); } catch (err) { setError(errorText(err)); }
  };
  return (
    <form class="screen narrow" id="setup" onSubmit={submit}>
      <h1>{t("setup_title")}</h1>
      <p class="muted" id="setup-hint">{t("setup_hint", { path, name: deviceName })}</p>
      <label>{t("passphrase")}
        <input id="setup-passphrase" type="password" autoFocus value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />
      </label>
      <label>{t("passphrase_again")}
        <input id="setup-passphrase-again" type="password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" id="create-store" type="submit">{t("create_store")}</button>
    </form>
  );
}

export function SignIn({ onSignedIn }: { onSignedIn: (s: Staff) => void }) {
  const [staff, setStaff] = useState<Staff[]>([]);
  const [chosen, setChosen] = useState<Staff | null>(null);
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const load = () => call("list_staff").then(setStaff).catch((e) => setError(errorText(e)));
  useEffect(() => { load(); }, []);
  // Accounts the station issues arrive by sync.
  useReloadAfterSync(load, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!chosen) return;
    try {
      const s = await call("sign_in", { staffId: chosen.id, pin });
      onSignedIn(s);
    } catch (err) { setPin(""); setError(errorText(err)); }
  };
  return (
    <div class="screen narrow">
      <h1>{t("sign_in_title")}</h1>
      <p class="muted">{t("pick_yourself")}</p>
      <div class="staff-grid">
        {staff.map((s) => (
          <button class={chosen?.id === s.id ? "staff chosen" : "staff"} data-staff={s.display_name}
            onClick={() => { setChosen(s); setError(null); }}>
            <strong>{s.display_name}</strong>
            <small>{s.roles.map((r) => t(`role_${r}` as never)).join(" · ")}</small>
          </button>
        ))}
      </div>
      {chosen && (
        <form onSubmit={submit}>
          <label>{t("pin")}
            <input id="pin" type="password" inputMode="numeric" autoFocus value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
          </label>
          <button class="primary" id="sign-in" type="submit">{t("sign_in")}</button>
        </form>
      )}
      {error && <p class="error" role="alert" id="sign-in-error">{error}</p>}
    </div>
  );
}
