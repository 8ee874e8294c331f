import t from "tap";
import { FakeClock, systemClock } from "../src/index.js";

void t.test("FakeClock fires timers in time order, then in the order they were set, only inside advance()", (t) => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("b@20"), 20);
  clock.setTimeout(() => fired.push("a@10"), 10);
  clock.setTimeout(() => fired.push("c@20"), 20);
  const cancelled = clock.setTimeout(() => fired.push("never"), 5);
  cancelled.cancel();
  t.equal(clock.pending, 3);
  t.same(fired, [], "nothing fires before advance()");
  clock.advance(10);
  t.same(fired, ["a@10"]);
  t.equal(clock.now(), 10);
  clock.setTimeout(() => fired.push("d@15"), 5);
  clock.advance(100);
  t.same(fired, ["a@10", "d@15", "b@20", "c@20"]);
  t.equal(clock.now(), 110);
  t.equal(clock.pending, 0);
  t.end();
});

void t.test("FakeClock fires a timer set by a timer within the same advance()", (t) => {
  const clock = new FakeClock();
  const at: number[] = [];
  clock.setTimeout(() => {
    at.push(clock.now());
    clock.setTimeout(() => at.push(clock.now()), 0);
  }, 7);
  clock.advance(7);
  t.same(at, [7, 7]);
  t.end();
});

void t.test("systemClock is monotonic and its timers can be cancelled", async (t) => {
  const a = systemClock.now();
  let fired = false;
  systemClock.setTimeout(() => (fired = true), 1).cancel();
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(systemClock.now() >= a);
  t.notOk(fired);
});
