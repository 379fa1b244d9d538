#!/usr/bin/env bash
# End-to-end tests of the real app window: tauri-driver → WebKitWebDriver → the app
# binary, under a virtual X display. Screenshots land in artifacts/e2e/.
# Time limits, innermost first: each test 240 s (--test-timeout), each file 600 s (the
# harness's watchdog, which prints the drivers' output and stops every process), the
# whole run 1500 s; --test-force-exit ends a file whose test left a handle open.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# Without software GL, WebKit's screenshots come out blank under Xvfb.
export LIBGL_ALWAYS_SOFTWARE=1
rm -rf artifacts/e2e
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/e2e/)
timeout -k 10 1500 xvfb-run -a -s "-screen 0 1280x800x24" \
  node --test --test-concurrency=1 --test-timeout=240000 --test-force-exit "${files[@]}"
