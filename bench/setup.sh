#!/usr/bin/env bash
# The benchmark's one set-up step: a Python virtual environment with PgQueuer (anchor B), under .build/.
# pgbench (anchor A) comes with the PostgreSQL server packages the relay already needs.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .build/bench-venv
.build/bench-venv/bin/pip install --quiet --disable-pip-version-check pgqueuer asyncpg
echo "PgQueuer installed in .build/bench-venv; now: swift run -c release pushrelay-bench"
