// Entry point of the nsctl client (bin/nsctl). The l2tpns-compatible control protocol lands with
// the operator tooling; until then the client checks its command line and says so plainly.
import { NSCTL_USAGE, parseNsctlArgs } from "../index.js";

const parsed = parseNsctlArgs(process.argv.slice(2));
if (!parsed.ok) {
  console.error(`nsctl: ${parsed.message}\n${NSCTL_USAGE}`);
  process.exitCode = 2;
} else {
  console.error(`nsctl: the control protocol has not landed in this build yet; '${parsed.options.command}' not sent`);
  process.exitCode = 1;
}
