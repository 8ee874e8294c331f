// Whether a command runs here (a skip reason for tests that need e.g. mkpasswd or perl).
import { execFileSync } from "node:child_process";

export function have(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
