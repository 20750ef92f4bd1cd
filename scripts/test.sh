#!/usr/bin/env bash
# `npm test`: install what is missing, start the project's own servers, run every test, stop what it started.
#   npm test                 unit + integration + e2e
#   npm test -- unit         only test/unit (no servers needed)
#   npm test -- <files...>   only those files (servers started)
set -uo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "npm test: node is missing (install Node.js 20+)" >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null || { echo "npm test: npm ci failed" >&2; exit 1; }
shopt -s globstar nullglob

sel=${1:-all}
if [ "$sel" = unit ]; then files=(test/unit/**/*.test.ts); need_services=0
elif [ "$sel" = all ]; then files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/e2e/**/*.test.ts); need_services=1
else files=("$@"); need_services=1; fi

started=()   # only the services this run started are stopped at the end
if [ $need_services = 1 ] && [ -z "${FERRY_TEST_NO_SERVICES:-}" ]; then
  read -ra started <<<"$(bash scripts/services.sh status 2>/dev/null | awk '$2 == "down" { printf "%s ", $1 }')"
  bash scripts/services.sh up || exit 1
fi
cleanup() { [ ${#started[@]} -gt 0 ] && [ -z "${FERRY_KEEP_SERVICES:-}" ] && bash scripts/services.sh down "${started[@]}"; }
trap cleanup EXIT

node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
