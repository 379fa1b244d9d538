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
  # Two bookings for the demo site today (China Standard Time), shown at check-in.
  TODAY=$(TZ=Asia/Shanghai date +%F)
  printf '%s\n' "日期,时间,地点,姓名,证件号码,电话,备注" \
    "$TODAY,09:00,示范采血点 · 人民广场,王芳,110105199003070025,13912345678,首次献血" \
    "$TODAY,10:30,示范采血点 · 人民广场,陈刚,11010519491231002X,," >"$DEMO/station/bookings.csv"
  "$TARGET/lifebridge-station" --data-dir "$DEMO/station" appointment import "$DEMO/station/bookings.csv" >/dev/null
  # Receiving desk accounts (6-digit PINs: they sign, docs/security.md): the desk nurse, and the demo bus's driver to sign hand-offs.
  echo 123456 | "$TARGET/lifebridge-station" --data-dir "$DEMO/station" staff add --name 赵敏 --role receiving >/dev/null
  # A driver issued by the station: on the tablet after the first sync, same PIN at the desk.
  echo 123456 | "$TARGET/lifebridge-station" --data-dir "$DEMO/station" staff add --name "司机 周勇" --role driver >/dev/null
else
  CODE=""
fi

"$TARGET/lifebridge-station" --data-dir "$DEMO/station" serve --listen "127.0.0.1:$PORT" --din-facility W0001 --training &
STATION=$!
trap 'kill $STATION 2>/dev/null || true' EXIT
echo "station: http://127.0.0.1:$PORT (data in $DEMO/station)"
echo "receiving desk: http://127.0.0.1:$PORT/desk (赵敏, PIN 123456; driver 司机 周勇, PIN 123456); statistics: /stats"
echo "app: sign in as any demo crew member with PIN 123456 (the driver's Transport tab: 司机 周勇, issued by the station, or the demo's 司机 刘洋)"

env LIFEBRIDGE_STORE="$DEMO/device.db" LIFEBRIDGE_STORE_KEY="$KEY" LIFEBRIDGE_DEVICE_NAME=DEMO-BUS \
  LIFEBRIDGE_STATION_URL="http://127.0.0.1:$PORT" LIFEBRIDGE_ENROLL_CODE="$CODE" \
  "$TARGET/lifebridge-app"
