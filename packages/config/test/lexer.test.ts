import t from "tap";
import { lexLine, quoteWord } from "../src/lexer.js";

// Expected word splits; the quoting and comment rules were checked against l2tpns 2.4.1 by feeding
// it the same lines and reading back `show running-config`.
void t.test("words, quotes and comments", (t) => {
  const words = (line: string): readonly string[] | string => {
    const r = lexLine(line);
    return r.ok ? r.words : `error: ${r.error}`;
  };
  t.same(words(""), []);
  t.same(words("   \t "), []);
  t.same(words("# comment"), []);
  t.same(words("   ! indented bang"), []);
  t.same(words("set debug 3"), ["set", "debug", "3"]);
  t.same(words("  set\tdebug   3  "), ["set", "debug", "3"]);
  t.same(words('set log_file "/var/log/l2tpns"'), ["set", "log_file", "/var/log/l2tpns"]);
  t.same(words("set pid_file 'single'"), ["set", "pid_file", "single"]);
  t.same(words('set random_device "with space"'), ["set", "random_device", "with space"]);
  t.same(words('set x "a\\"b"'), ["set", "x", 'a"b']);
  t.same(words("set x 'x\\'y'"), ["set", "x", "x'y"]);
  t.same(words("set x a\\ b"), ["set", "x", "a b"]);
  t.same(words('set x ""'), ["set", "x", ""]);
  t.same(words("set x foo!bar"), ["set", "x", "foo!bar"], "! is a comment only at the start");
  t.same(words("set x foo # trailing"), ["set", "x", "foo"]);
  t.same(words('set x "a" #trailing'), ["set", "x", "a"]);
  t.same(words('set x a"b c"d'), "error: a quote (\") in the middle of a word");
  t.same(words('set x "a"b'), "error: text follows a closing quote without a blank");
  t.same(words('set x "unterminated'), 'error: unterminated quote (")');
  t.same(words("set x foo\\"), "error: the line ends with a backslash");
  t.end();
});

void t.test("'#' cuts even inside quotes and words, with a warning", (t) => {
  t.same(lexLine('set l2tp_secret "a#b"'), {
    ok: true,
    words: ["set", "l2tp_secret", "a"],
    warning: "'#' starts a comment even inside quotes (as in l2tpns): the value is cut to 'a'",
  });
  t.same(lexLine("set pid_file foo#bar"), {
    ok: true,
    words: ["set", "pid_file", "foo"],
    warning: "'#' starts a comment even inside a word (as in l2tpns): the word is cut to 'foo'",
  });
  t.end();
});

void t.test("quoteWord round-trips through lexLine", (t) => {
  for (const w of ["plain", "", "with space", 'q"uote', "back\\slash", "it's", "!bang", "tab\there"]) {
    const r = lexLine(`x ${quoteWord(w)}`);
    t.same(r, { ok: true, words: ["x", w] }, JSON.stringify(w));
  }
  t.end();
});
