import { afterEach, describe, expect, it, vi } from "vitest";

// The Tauri bridge, answered per test: the commands refuse as the core would.
const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

const { SESSION_ENDED_EVENT, call, errorText } = await import("./api");

describe("sessions on the tablet", () => {
  afterEach(() => { invoke.mockReset(); vi.unstubAllGlobals(); });

  it("names the closed account in the core's words", () => {
    const text = errorText({
      code: "inactive", field: null, message: "the account of 护士长 孙艳 is closed", detail: null,
      text: { code: "session.account_closed", params: { staff: "护士长 孙艳" } },
    });
    expect(text).toContain("护士长 孙艳");
    expect(text).toContain("请换其他工作人员登录");
  });

  it("tells the window at once when the core ended the session", async () => {
    const events: string[] = [];
    vi.stubGlobal("window", { dispatchEvent: (e: Event) => { events.push(e.type); return true; } });
    for (const code of ["signed_out", "inactive", "device_locked"]) {
      invoke.mockRejectedValueOnce({ code, field: null, message: code, detail: null });
      await expect(call("sync_now")).rejects.toMatchObject({ code });
    }
    invoke.mockRejectedValueOnce({ code: "wrong_key", field: null, message: "wrong key", detail: null });
    await expect(call("unlock", { passphrase: "x" })).rejects.toMatchObject({ code: "wrong_key" });
    expect(events).toEqual([SESSION_ENDED_EVENT, SESSION_ENDED_EVENT, SESSION_ENDED_EVENT]);
  });
});
