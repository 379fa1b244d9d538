#!/usr/bin/env bash
# `make run`: an embedded station on loopback, a demo drive in an encrypted device store,
# and the app window enrolled with the station. Ctrl-C (or closing the window) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}/debug
DEMO=${DEMO_DIR:-.lifebridge}
KEY=${DEMO_KEY:-demo-key-not-for-real-donors}
PORT=${STATION_PORT:-8707}
mkdir -p "$DEMO/station"

if [ ! -f "$DEMO/device.db" ]; then
  LIFEBRIDGE_STORE_KEY=$KEY "$TARGET/lifebridge" store demo --store "$DEMO/device.db" --donations 5 >/dev/null
  CODE=$("$TARGET/lifebridge-station" --data-dir "$DEMO/station" device enroll --name DEMO-BUS 2>/dev/null)
else
  CODE=""
fi

"$TARGET/lifebridge-station" --data-dir "$DEMO/station" serve --listen "127.0.0.1:$PORT" --din-facility W0001 &
STATION=$!
trap 'kill $STATION 2>/dev/null || true' EXIT
echo "station: http://127.0.0.1:$PORT (data in $DEMO/station)"
echo "app: sign in as any demo crew member with PIN 1234"

env LIFEBRIDGE_STORE="$DEMO/device.db" LIFEBRIDGE_STORE_KEY="$KEY" LIFEBRIDGE_DEVICE_NAME=DEMO-BUS \
  LIFEBRIDGE_STATION_URL="http://127.0.0.1:$PORT" LIFEBRIDGE_ENROLL_CODE="$CODE" \
  "$TARGET/lifebridge-app"
