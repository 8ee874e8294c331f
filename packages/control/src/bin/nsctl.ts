// Entry point of the nsctl client (bin/nsctl): nsctl(8)'s command line, one request to lnsd or
// l2tpns on UDP 1702, the answer's lines on stdout (exit 0) or, for an error, on stderr (exit 1).
import { NSCTL_REQ_HELP, NSCTL_RES_OK, NSCTL_USAGE, builtinHelpLines, describeNsctl, nsctlRequest, parseNsctlArgs, requestFor } from "../index.js";

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseNsctlArgs(argv);
  if (!parsed.ok) {
    console.error(`nsctl: ${parsed.message}\n${NSCTL_USAGE}`);
    return 2;
  }
  const o = parsed.options;
  const request = requestFor(o.command, o.args);
  if (request.type === NSCTL_REQ_HELP) console.log(builtinHelpLines().join("\n"));
  const reply = await nsctlRequest(request, {
    host: o.host,
    port: o.port,
    timeoutMs: o.timeoutS * 1000,
    ...(o.debug ? { trace: (direction: "sent" | "received", msg: Parameters<typeof describeNsctl>[0]) => { console.error(`nsctl: ${direction} ${describeNsctl(msg)}`); } } : {}),
  });
  if (!reply.ok) {
    console.error(`nsctl: ${reply.message}`);
    return 1;
  }
  const { type, args } = reply.response;
  const text = args.map((l) => l + "\n").join("");
  if (type === NSCTL_RES_OK) {
    process.stdout.write(text);
    return 0;
  }
  process.stderr.write(text);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
