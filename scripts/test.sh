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
# Each test file's raw TAP goes to its own file as it runs, so that a run which ends without a
# report (the runner killed) still says which test files had not finished.
tapdir=$(mktemp -d)
set +e
npx tap --output-dir "$tapdir" "${files[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  unfinished=0
  while IFS= read -r f; do
    # A finished file's TAP ends with its plan ("1..N") or a bail out.
    if ! tail -n 3 "$f" | grep -qE '^(1\.\.[0-9]+|Bail out!)'; then
      unfinished=$((unfinished + 1))
      echo "test.sh: ${f#"$tapdir"/} did not finish; its last lines:" >&2
      tail -n 15 "$f" | sed 's/^/    /' >&2
    fi
  done < <(find "$tapdir" -type f -name '*.tap' | sort)
  # And the files that reported a failure, with their failing lines (the report above may be missing).
  failing=0
  while IFS= read -r f; do
    if grep -qE '^\s*not ok ' "$f"; then
      failing=$((failing + 1))
      echo "test.sh: ${f#"$tapdir"/} reported failures:" >&2
      grep -E '^\s*not ok ' "$f" | head -n 10 | sed 's/^/    /' >&2
    fi
  done < <(find "$tapdir" -type f -name '*.tap' | sort)
  echo "test.sh: $(find "$tapdir" -type f -name '*.tap' | wc -l) test files started, $unfinished did not finish, $failing reported failures" >&2
fi
rm -rf "$tapdir"
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
