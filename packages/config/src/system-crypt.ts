// The system's crypt(3), for the password hashes lnsd does not compute itself ($5$, $6$, $y$, ...):
// l2tpns hands every {crypt} password to crypt(3) (through libcli), so lnsd asks the same library.
// Node has no binding to it; perl's builtin crypt() calls libcrypt (libxcrypt on Debian 12), and
// perl-base is Essential on Debian. Runs as a child process, so the control loop never blocks.
import { spawn } from "node:child_process";

/** The hash on the first line of standard input, the password (bytes, any) after it: never on argv, where ps shows it. */
const SCRIPT =
  'binmode STDIN; binmode STDOUT; local $/; my $in = <STDIN>; my ($salt, $password) = split /\\n/, $in, 2; ' +
  '$password = "" unless defined $password; my $hash = crypt($password, $salt); print defined $hash ? $hash : "";';

const TIMEOUT_MS = 10_000;

/**
 * crypt(3) of `password` with the salt (or whole hash) `setting`, or undefined when crypt(3) cannot
 * (a scheme it does not know: libxcrypt answers "*0"), perl is missing, or it takes over 10 s.
 */
export function systemCrypt(password: string, setting: string): Promise<string | undefined> {
  if (setting.includes("\n")) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let out = "";
    let settled = false;
    const finish = (value: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const child = spawn("perl", ["-e", SCRIPT], { stdio: ["pipe", "pipe", "ignore"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(undefined);
    }, TIMEOUT_MS);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => (out += d));
    child.on("error", () => { finish(undefined); });
    child.on("close", (code) => { finish(code === 0 && out !== "" && !out.startsWith("*") ? out : undefined); });
    child.stdin.on("error", () => undefined);
    child.stdin.end(Buffer.concat([Buffer.from(`${setting}\n`, "utf8"), Buffer.from(password, "utf8")]));
  });
}
