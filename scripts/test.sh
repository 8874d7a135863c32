#!/usr/bin/env bash
# The test command (`npm test`): installs missing system packages (as root), type-checks, lints, runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
npx eslint src test scripts bench
npx vitest run "$@"
