import t from "tap";
import { parseNsctlArgs } from "../src/index.js";

void t.test("nsctl command line", (t) => {
  t.same(parseNsctlArgs(["help"]), { ok: true, options: { debug: false, host: "127.0.0.1", port: 1702, timeoutS: 2, command: "help", args: [] } });
  t.same(parseNsctlArgs(["-d", "-h", "10.0.0.1:1800", "-t", "5", "load_plugin", "garden"]), {
    ok: true,
    options: { debug: true, host: "10.0.0.1", port: 1800, timeoutS: 5, command: "load_plugin", args: ["garden"] },
  });
  t.same(parseNsctlArgs(["-h[::1]:1702", "help"]), { ok: true, options: { debug: false, host: "::1", port: 1702, timeoutS: 2, command: "help", args: [] } });
  t.same(parseNsctlArgs([]), { ok: false, message: "no command given" });
  t.same(parseNsctlArgs(["-t", "x", "help"]), { ok: false, message: "bad timeout 'x'" });
  t.same(parseNsctlArgs(["-q", "help"]), { ok: false, message: "unknown option -q" });
  t.end();
});
