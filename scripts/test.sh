#!/usr/bin/env bash
# The test command (npm test): installs what it needs, builds with tsc -b, lints with
# typescript-eslint strictTypeChecked, fails on any import cycle between source files, then runs
# every tap test, the root/netns ones included.
#   --only-root   run only the tests tagged as needing root (files named *.root.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
echo "== build (tsc -b)"
npx tsc -b
echo "== lint (eslint, typescript-eslint strictTypeChecked)"
npx eslint --max-warnings 0 .
echo "== import cycles (packages/*/src, plugins/*/src)"
node scripts/import-cycles.mjs
echo "== tests (tap)"
files=()
if [ "${1:-}" = "--only-root" ]; then
  shopt -s globstar nullglob
  files=(packages/*/dist/test/**/*.root.test.js plugins/*/dist/test/**/*.root.test.js)
fi
out=$(mktemp)
set +e
npx tap "${files[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line, from tap's own summary "# { total: N, pass: N, fail: N, skip: N }".
summary=$(grep -E '^# \{ total:' "$out" | tail -1)
rm -f "$out"
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
echo "tests: ${pass:-0} passed, ${fail:-0} failed${skip:+, $skip skipped}"
if [ "$rc" -eq 0 ] && [ -z "$pass" ]; then
  echo "test.sh: tap ran no test" >&2
  exit 1
fi
exit "$rc"
