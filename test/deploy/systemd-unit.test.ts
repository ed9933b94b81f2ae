import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const UNIT = new URL("../../deploy/policy-advisor.service", import.meta.url);

/** The unit file as systemd reads it: sections of key=value lines, a key given twice keeps both values. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1]) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    if (!current || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

describe("deploy/policy-advisor.service", () => {
  const service = parseUnit(readFileSync(UNIT, "utf8")).get("Service");
  const value = (key: string): string | undefined => service?.get(key)?.at(-1);

  it("bounds open files, memory and tasks", () => {
    // Above serve's default --max-connections (1024) plus the files it keeps for itself.
    expect(Number(value("LimitNOFILE"))).toBeGreaterThanOrEqual(1024 + 64);
    expect(value("MemoryMax")).toMatch(/^\d+[KMGT]$/);
    expect(Number(value("TasksMax"))).toBeGreaterThan(0);
  });

  it("is hardened: no privileges, a read-only system, only its data directory writable", () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: "true",
      ProtectSystem: "strict",
      ProtectHome: "true",
      PrivateTmp: "true",
      PrivateDevices: "true",
      ProtectKernelTunables: "true",
      ProtectKernelModules: "true",
      ProtectKernelLogs: "true",
      ProtectControlGroups: "true",
      ProtectClock: "true",
      ProtectHostname: "true",
      RestrictSUIDSGID: "true",
      RestrictNamespaces: "true",
      RestrictRealtime: "true",
      LockPersonality: "true",
      SystemCallArchitectures: "native",
      CapabilityBoundingSet: "",
      ReadWritePaths: "/var/lib/policy-advisor",
      User: "policy-advisor",
    };
    for (const [key, want] of Object.entries(expected))
      expect({ key, value: value(key) }).toEqual({ key, value: want });
    expect(value("RestrictAddressFamilies")?.split(/\s+/).sort()).toEqual(["AF_INET", "AF_INET6", "AF_UNIX"]);
    expect(value("SystemCallFilter")).toContain("@system-service");
    // The decision log lives where the unit lets it write.
    expect(value("WorkingDirectory")).toBe("/var/lib/policy-advisor");
  });
});
