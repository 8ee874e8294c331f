// FreeRADIUS (lib/freeradius.ts's TestRadiusServer) inside a network namespace, on that
// namespace's loopback as lnsd there uses it: run by `ip netns exec`, it says {"ready": {authPort}},
// answers "records" with {"records": [...]} (each record as [attribute, values] pairs) and stops
// the server when stdin closes (or on SIGTERM). Arguments: secret, users file text.
import { commands, emit } from "./child-io.js";
import { TestRadiusServer } from "./freeradius.js";

const [secret = "", users = ""] = process.argv.slice(2);
// SIGTERM: exit by process.exit, whose exit handlers stop FreeRADIUS (TestRadiusServer's).
process.on("SIGTERM", () => { process.exit(1); });
const server = await TestRadiusServer.start(secret, users);
emit("ready", { authPort: server.authPort });
commands(async (words) => {
  switch (words[0]) {
    case "records":
      emit("records", server.records().map((r) => [...r.entries()]));
      return;
    case "log":
      emit("log", server.log);
      return;
    case "eof":
      await server.stop();
      process.exit(0);
  }
});
