#!/usr/bin/env bash
# The main job: set up, build the site (release) and serve dist/ on localhost; prints
# its URL. PORT (default 8080) and PREFIX (default /) choose where it is served.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh
exec node tests/browser/server.mjs dist --port "${PORT:-8080}" --prefix "${PREFIX:-/}"
