#!/usr/bin/env bash
# The test command (npm test): installs what it needs, builds with tsc -b, lints with
# typescript-eslint strictTypeChecked, then runs every tap test, the root/netns ones included.
#   --only-root   run only the tests tagged as needing root (files named *.root.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
echo "== build (tsc -b)"
npx tsc -b
echo "== lint (eslint, typescript-eslint strictTypeChecked)"
npx eslint --max-warnings 0 .
echo "== tests (tap)"
if [ "${1:-}" = "--only-root" ]; then
  shopt -s globstar nullglob
  files=(packages/*/dist/test/**/*.root.test.js plugins/*/dist/test/**/*.root.test.js)
  exec npx tap "${files[@]}"
fi
npx tap
