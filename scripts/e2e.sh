#!/usr/bin/env bash
# End-to-end tests of the real app window: tauri-driver → WebKitWebDriver → the app
# binary, under a virtual X display. Screenshots land in artifacts/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# Without software GL, WebKit's screenshots come out blank under Xvfb.
export LIBGL_ALWAYS_SOFTWARE=1
rm -rf artifacts/e2e
timeout 900 xvfb-run -a -s "-screen 0 1280x800x24" node --test --test-concurrency=1 tests/e2e/
