import t from "tap";
import { RatePerSource } from "../src/index.js";

void t.test("a burst of twice the rate, then the rate; each source on its own; the map bounded", (t) => {
  const r = new RatePerSource(10, 3);
  let taken = 0;
  for (let i = 0; i < 50; i++) if (r.take("a", 0)) taken++;
  t.equal(taken, 20, "a burst of 20 at once");
  t.equal(r.take("a", 50), false, "half a token after 50 ms: no");
  t.equal(r.take("a", 100), true, "one token after 100 ms");
  t.equal(r.take("b", 100), true, "another source is not held back");
  r.take("c", 100);
  r.take("d", 100);
  t.equal(r.take("a", 100), true, "past maxSources the map starts afresh: a gets a full burst again");
  t.end();
});
