// The cluster test's FreeRADIUS (@lnsd/testkit's, Debian's freeradius with a minimal raddb) in a
// namespace of its own, taking requests from every node of the cluster: its clients are the
// cluster LAN (CLIENTS), and the test sends what reaches the namespace's LAN address on to the
// server's loopback ports (nftables DNAT there). Says {"ready": {authPort}}, answers "records"
// with {"records": [...]} (each record of the detail file as [attribute, values] pairs) and stops
// the server when stdin closes (or on SIGTERM). Arguments: secret, users file text, clients CIDR.
import { FreeRadius } from "@lnsd/testkit";
import { commands, emit } from "./child-io.js";

const [secret = "", users = "", clients = "127.0.0.0/8"] = process.argv.slice(2);
// SIGTERM: exit by process.exit, whose exit handler kills FreeRADIUS (FreeRadius's own).
process.on("SIGTERM", () => { process.exit(1); });
const server = await FreeRadius.start({ secret, users, clients, debug: false });
emit("ready", { authPort: server.authPort });
commands(async (words) => {
  switch (words[0]) {
    case "records":
      emit("records", server.detail().map((r) => [...r.attrs.entries()]));
      return;
    case "log":
      emit("log", server.log);
      return;
    case "eof":
      await server.dispose();
      process.exit(0);
  }
});
