// The CLI engine without sockets: a CliSession on a buffer, keys in, bytes out. The expected texts
// are those of l2tpns 2.4.1's CLI (captured transcript), where lnsd shows the same things.
import t from "tap";
import { CliSession, KeyDecoder, LineEditor, l2tpnsCommands, parseLine, type Terminal } from "../src/index.js";
import { fakeBackend } from "./fake-backend.js";

interface Screen {
  readonly session: CliSession;
  /** Everything written, \r removed. */
  text(): string;
  clear(): void;
  type(s: string): Promise<string>;
  closed(): boolean;
}

function screen(o: { sessions?: number; login?: boolean; users?: string; chunkBytes?: number } = {}): Screen {
  let out = "";
  let closed = false;
  const terminal: Terminal = {
    write: (s) => { out += s; return true; },
    drained: () => Promise.resolve(),
    close: () => { closed = true; },
  };
  const backend = fakeBackend({ sessions: o.sessions ?? 5, users: o.users ?? "admin:secret\nenable:enpw\n" });
  const session = new CliSession({ backend, commands: l2tpnsCommands(), terminal, login: o.login ?? false, users: backend.users(), ...(o.chunkBytes === undefined ? {} : { chunkBytes: o.chunkBytes }) });
  session.start();
  const text = (): string => out.replace(/\r/g, "");
  return {
    session,
    text,
    clear: () => { out = ""; },
    type: async (s) => {
      out = "";
      session.receive(s);
      // Let a command's output stream out (it yields to the event loop between chunks).
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      return text();
    },
    closed: () => closed,
  };
}

const EXEC_HELP = `
  help                 Show available commands
  quit                 Disconnect
  logout               Disconnect
  exit                 Exit from current mode
  history              Show a list of previously run commands
  enable               Turn on privileged commands
  show                 
  uptime               Show uptime and bandwidth utilisation
  write                
  debug                Set the level of logging that is shown on the console
  no                   

lns> `;

void t.test("? at an empty prompt lists the EXEC commands as l2tpns does", async (t) => {
  const s = screen();
  t.equal(s.text(), "\nlns> ");
  t.equal(await s.type("?"), EXEC_HELP);
});

void t.test("? after a command: its arguments and <cr>; the line stays", async (t) => {
  const s = screen();
  t.equal(await s.type("show tunnels ?"), "show tunnels \n  all                  Show all tunnels, including unused\n  <1-499>              Show specific tunnel by id\n  <cr>\n\nlns> show tunnels ");
  const debug = await s.type("\x15debug ?");
  t.match(debug, /debug \n {2}all {18}Enable debugging for all except "data"\n {2}critical\n {2}error\n {2}warning\n {2}info\n {2}calls\n {2}data\n {2}<cr>\n/);
  t.match(await s.type("\x15show p?"), /\n {2}plugins {14}List all installed plugins\n {2}pool {17}Show the IP address allocation pool\n\nlns> show p$/);
  t.match(await s.type("\x15show bgp ?"), /show bgp \n\nlns> show bgp $/, "nothing for show bgp, as l2tpns");
});

void t.test("help, abbreviations, unknown and incomplete commands", async (t) => {
  const s = screen();
  const help = await s.type("help\r");
  t.match(help, /^help\n\nCommands available:\n {2}help {17}Show available commands\n/);
  t.match(help, /\n {2}show session {9}Show a list of sessions or details for a single session\n/);
  t.match(help, /\n {2}no debug {13}Turn off logging of a certain level of debugging\n\nlns> $/);
  t.notMatch(help, /running-config|drop user/, "privileged commands are not listed in EXEC mode");
  t.match(await s.type("sh ver\r"), /^sh ver\nlnsd 0\.1\.0\n\nlns> $/);
  t.match(await s.type("foo\r"), /Invalid command "foo"/);
  t.match(await s.type("show foo\r"), /Invalid argument "foo"/);
  t.match(await s.type("show\r"), /Incomplete command/);
  t.match(await s.type("drop session 1\r"), /Invalid command "drop"/, "drop needs enable");
});

void t.test("show session: l2tpns's columns, and the detail of one session", async (t) => {
  const s = screen();
  const out = await s.type("show session\r");
  const lines = out.split("\n");
  t.equal(lines[1], "  SID LkToSID  TID Username                         IP              I T G 6     opened downloaded   uploaded idle   Rem.Time LAC(L)/RLNS(R)/PPPOE(P) CLI");
  t.equal(lines[2], "    1       0    2 dslloadtest1@optusnet.com.au     10.78.0.1       N N N N         41          0          0    1          0 (L)10.77.1.2            000");
  const one = await s.type("show session 1\r");
  t.match(one, /\nSession 1:\n\tUser:\t\tdslloadtest1@optusnet\.com\.au\n\tCalling Num:\t000\n\tCalled Num:\t12356\n\tTunnel ID:\t2\n\tPPP Phase:\tNetwork\n\t IPCP state:\tOpened\n/);
  t.match(await s.type("show tunnels\r"), / TID {13}Hostname {19}IP {2}State Sessions\n {3}2 {13}loadtest {12}10\.77\.1\.2 {3}Open {6}5 Tunnel To LAC\n/);
  t.match(await s.type("show pool\r"), /IP Address {6}Used {2}Session User\n10\.78\.0\.1 {6}\tY {8}1 dslloadtest1@optusnet\.com\.au\n/);
});

void t.test("filters: include, exclude, begin, count", async (t) => {
  const s = screen();
  const inc = await s.type("show session | include test3\r");
  t.equal(inc.split("\n").filter((l) => l.includes("dslloadtest")).length, 1);
  const exc = await s.type("show session | exclude test3\r");
  t.equal(exc.split("\n").filter((l) => l.includes("dslloadtest")).length, 4);
  t.match(await s.type("show session | count\r"), /\n6\n/);
  t.match(await s.type("show session | beg test4 | inc test\r"), /test4.*\n.*test5.*\n\nlns> $/);
  t.match(await s.type("show session | frob\r"), /Invalid filter "frob"/);
  t.match(await s.type("show session |\r"), /Missing filter/);
});

void t.test("enable, privileged and config modes, Ctrl-Z, disable", async (t) => {
  const s = screen();
  t.equal(await s.type("enable\r"), "enable\nPassword: ");
  t.equal(await s.type("wrong\r"), "\n\nAccess denied\n\nlns> ");
  await s.type("enable\r");
  t.equal(await s.type("enpw\r"), "\nlns# ");
  t.match(await s.type("sh ses\r"), /Ambiguous command "sh"/, "show and shutdown both start with sh");
  t.equal(await s.type("conf t\r"), "conf t\n\nlns(config)# ");
  t.match(await s.type("?"), /\n {2}router {15}\n {2}load {17}\n {2}remove {15}\n {2}set {18}Set a configuration variable\n {2}setforward {11}Set the Remote LNS Forward\n {2}ip {19}\n {2}no {19}\n/);
  t.match(await s.type("set hostname lns2\r"), /lns2\(config\)# $/);
  t.match(await s.type("set bogus 1\r"), /Unknown variable "bogus"/);
  t.match(await s.type("router bgp 65000\r"), /BGP is not running/);
  t.equal(await s.type("\x1a"), "\nlns2# ");
  t.match(await s.type("drop session 3\r"), /Dropping session 3/);
  t.match(await s.type("throttle dslloadtest1@optusnet.com.au\r"), /Throttling is not running/);
  t.match(await s.type("disable\r"), /\nlns2> $/);
});

void t.test("login: a wrong password is refused, three times closes", async (t) => {
  const s = screen({ login: true });
  t.equal(s.text(), "\nUsername: ");
  t.equal(await s.type("admin\r"), "admin\nPassword: ");
  t.equal(await s.type("nope\r"), "\n\nAccess denied\n\nUsername: ", "the password is not echoed");
  await s.type("admin\r");
  t.equal(await s.type("secret\r"), "\n\nlns> ");
  const s2 = screen({ login: true });
  for (let i = 0; i < 3; i++) await s2.type("admin\rbad\r");
  t.ok(s2.closed(), "closed after three failures");
});

void t.test("line editing, history and Tab", async (t) => {
  const s = screen();
  await s.type("show version\r");
  await s.type("uptime\r");
  await s.type("\x1b[A\x1b[A");
  t.match(await s.type("\r"), /lnsd 0\.1\.0/, "two Ups recall show version");
  await s.type("shxx");
  await s.type("\x08\x08\x01\x05 versoin\x17version");
  t.match(await s.type("\r"), /lnsd 0\.1\.0/, "backspace, Ctrl-A/E, Ctrl-W");
  t.match(await s.type("foo bar\x15show version\r"), /lnsd 0\.1\.0/, "Ctrl-U");
  t.match(await s.type("show version junk\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x0b\r"), /lnsd 0\.1\.0/, "Left and Ctrl-K");
  t.equal(await s.type("sho\t"), "show ", "Tab completes a unique word");
  t.equal(await s.type("ver\t"), "version ");
  t.match(await s.type("\r"), /lnsd 0\.1\.0/);
  t.equal(await s.type("show histogram \t"), "show histogram \x07", "two choices: a bell");
  t.match(await s.type("\t"), /\nidle +open\n\nlns> show histogram $/, "a second Tab lists them");
});

void t.test("pieces: words, keys, the editor", (t) => {
  t.same(parseLine(`show users "a b" | inc x`).words, ["show", "users", "a b"]);
  t.same(parseLine(`show users "a b" | inc x`).filters, [["inc", "x"]]);
  t.equal(parseLine("show ").trailingSpace, true);
  const d = new KeyDecoder();
  t.same(d.decode("a\r\n\x1b[").map((k) => k.kind), ["char", "enter"]);
  t.same(d.decode("Ab\r\0").map((k) => k.kind), ["up", "char", "enter"], "an escape sequence split across reads");
  const e = new LineEditor();
  e.insert("hello");
  t.equal(e.edit("left"), "\b");
  t.equal(e.insert("X"), "Xo\b");
  t.equal(e.line, "hellXo");
  t.end();
});

void t.test("100,000 sessions stream in chunks, yielding to the event loop", async (t) => {
  let out = 0;
  let writes = 0;
  let ticks = 0;
  const state = { done: false };
  const timer = setInterval(() => { ticks++; }, 1);
  const terminal: Terminal = { write: (s) => { out += s.length; writes++; state.done ||= s.endsWith("\r\nlns> "); return true; }, drained: () => Promise.resolve(), close: () => undefined };
  const backend = fakeBackend({ sessions: 100_000 });
  const session = new CliSession({ backend, commands: l2tpnsCommands(), terminal, login: false, users: undefined });
  session.start();
  state.done = false;
  const finished = (): boolean => state.done;
  const started = Date.now();
  session.receive("show session\r");
  while (!finished() && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
  t.comment(`100,000 rows in ${Date.now() - started} ms`);
  clearInterval(timer);
  t.ok(finished() && out > 100_000 * 150, `all rows written (${out} bytes)`);
  t.ok(writes > 500, `in many chunks (${writes})`);
  t.ok(ticks > 5, `timers ran meanwhile (${ticks})`);
});
