// A supervisor adds a colleague's account on this tablet, offline: the weekend donation
// house that gains a nurse for the day. The store checks the name, the roles and the PIN;
// accounts the station issues arrive by sync and are listed here too.
import { useEffect, useState } from "preact/hooks";
import { Role, Staff, call, errorText } from "../api";
import { t } from "../i18n";
import { options } from "../options";
import { useReloadAfterSync } from "../sync";

export function StaffScreen() {
  const [staff, setStaff] = useState<Staff[]>([]);
  const [name, setName] = useState("");
  const [roles, setRoles] = useState<Role[]>([]);
  const [pin, setPin] = useState("");
  const [pinAgain, setPinAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const load = () => call("list_staff").then(setStaff).catch((e) => setError(errorText(e)));
  useEffect(() => { load(); }, []);
  useReloadAfterSync(load, []);

  const toggle = (role: Role, on: boolean) =>
    setRoles(on ? [...roles.filter((r) => r !== role), role] : roles.filter((r) => r !== role));
  const submit = async (e: Event) => {
    e.preventDefault();
    setAdded(null);
    // Typing the PIN twice guards against a typo the new colleague could not sign in with.
    if (pin !== pinAgain) { setError(t("err_pins_differ")); return; }
    try {
      const s = await call("add_staff", { displayName: name, roles, pin });
      setAdded(s.display_name);
      setName(""); setRoles([]); setPin(""); setPinAgain(""); setError(null);
      load();
    } catch (err) { setError(errorText(err)); }
  };

  return (
    <div class="screen" id="staff-screen">
      <h1>{t("staff_title")}</h1>
      <table id="staff-list"><tbody>
        {staff.map((s) => (
          <tr data-staff={s.display_name}>
            <td><strong>{s.display_name}</strong></td>
            <td class="muted">{s.roles.map((r) => t(`role_${r}` as never)).join(" · ")}</td>
          </tr>
        ))}
      </tbody></table>
      <h2>{t("staff_add")}</h2>
      <form onSubmit={submit} id="staff-form">
        <label>{t("staff_name")}
          <input id="staff-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div class="row">
          {(options.value?.roles ?? []).map((role) => (
            <label class="check">
              <input type="checkbox" id={`staff-role-${role}`} checked={roles.includes(role)}
                onChange={(e) => toggle(role, e.currentTarget.checked)} />
              {t(`role_${role}` as never)}
            </label>
          ))}
        </div>
        <div class="row">
          <label>{t("pin")}
            <input id="staff-pin" type="password" inputMode="numeric" value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
          </label>
          <label>{t("staff_pin_again")}
            <input id="staff-pin-again" type="password" inputMode="numeric" value={pinAgain} onInput={(e) => setPinAgain(e.currentTarget.value)} />
          </label>
          <button class="primary" id="staff-submit" type="submit">{t("staff_add")}</button>
        </div>
      </form>
      {added && <p class="ok" id="staff-added">{t("staff_added", { name: added })}</p>}
      {error && <p class="error" role="alert" id="staff-error">{error}</p>}
    </div>
  );
}
