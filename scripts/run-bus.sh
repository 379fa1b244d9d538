#!/usr/bin/env bash
# `make run-bus`: a collection bus with no internet, on one machine. The city station on
# loopback, the bus's hub (lifebridge-station hub) linked to it, and two app windows
# enrolled with the hub: the registration tablet (demo drive, crew, a few donors) and the
# physician's tablet (the crew only; it joins the drive through the hub). A donor checked
# in on one window appears on the other within seconds; switch the hub's link to the
# station off and on at http://127.0.0.1:$HUB_PORT/hub (or start with HUB_LINK=off) and
# watch records wait on the bus, then reach the station's desk and statistics.
# Ctrl-C (or closing both windows) stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}/debug
DEMO=${DEMO_DIR:-.lifebridge-bus}
KEY=${DEMO_KEY:-demo-key-not-for-real-donors}
PORT=${STATION_PORT:-8707}
HUB_PORT=${HUB_PORT:-8717}
LINK=${HUB_LINK:-on}
STATION="$TARGET/lifebridge-station"
mkdir -p "$DEMO/station" "$DEMO/hub"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
"$STATION" --data-dir "$DEMO/station" serve --listen "127.0.0.1:$PORT" --din-facility W0001 --training &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

HUB_ARGS=(--data-dir "$DEMO/hub" hub --listen "127.0.0.1:$HUB_PORT" --din-facility W0001 --training --name DEMO-HUB --link "$LINK")
if [ ! -f "$DEMO/hub/enrolled" ]; then
  # First start: the station issues the hub a hub code; the hub enrolls with it.
  HUB_CODE=$("$STATION" --data-dir "$DEMO/station" device enroll --name DEMO-HUB --hub 2>/dev/null)
  HUB_ARGS+=(--upstream "http://127.0.0.1:$PORT" --code "$HUB_CODE")
fi
"$STATION" "${HUB_ARGS[@]}" &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$HUB_PORT/healthz" >/dev/null && break; sleep 0.2; done
touch "$DEMO/hub/enrolled"

# Each tablet's code comes from the hub: tablets enroll with the hub as with a station.
code_for() {
  if [ -f "$DEMO/$1.db" ]; then echo ""; return; fi
  "$STATION" --data-dir "$DEMO/hub" device enroll --name "$1" 2>/dev/null
}
REG_CODE=$(code_for TAB-REG)
DOC_CODE=$(code_for TAB-DOC)
[ -f "$DEMO/TAB-REG.db" ] || LIFEBRIDGE_STORE_KEY=$KEY "$TARGET/lifebridge" store demo --store "$DEMO/TAB-REG.db" --donations 3 >/dev/null
[ -f "$DEMO/TAB-DOC.db" ] || LIFEBRIDGE_STORE_KEY=$KEY "$TARGET/lifebridge" store demo --store "$DEMO/TAB-DOC.db" --crew-only >/dev/null

echo "station: http://127.0.0.1:$PORT (desk /desk, statistics /stats; data in $DEMO/station)"
echo "hub: http://127.0.0.1:$HUB_PORT/hub (its tablets, what waits to go up, the link switch)"
echo "two windows: TAB-REG (registration: 登记护士 李敏) and TAB-DOC (physician: 体检医生 王强), PIN 123456"

app() {
  env LIFEBRIDGE_STORE="$DEMO/$1.db" LIFEBRIDGE_STORE_KEY="$KEY" LIFEBRIDGE_DEVICE_NAME="$1" \
    LIFEBRIDGE_STATION_URL="http://127.0.0.1:$HUB_PORT" LIFEBRIDGE_ENROLL_CODE="$2" \
    "$TARGET/lifebridge-app" &
  pids+=($!)
}
app TAB-REG "$REG_CODE"
app TAB-DOC "$DOC_CODE"
wait "${pids[2]}" "${pids[3]}"
