#!/usr/bin/env bash
# make demo: a collector on embedded SQLite and two stations with simulated readers
# (GA 467 ID-card, RDM6300 RFID, keyboard-wedge and line readers), all under ./demo-run.
# Ctrl-C stops everything. DEMO_PORT (first station, default 8080; the second gets +1),
# COLLECTOR_PORT (default 9090) and DEMO_SECONDS (run that long, then stop) can be set.
set -euo pipefail
BIN=${1:?usage: demo.sh BIN_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN="$ROOT/demo-run"
PORT=${DEMO_PORT:-8080}
CPORT=${COLLECTOR_PORT:-9090}
mkdir -p "$RUN/bin"
rm -f "$RUN"/*.log
ln -sf "$BIN/yizhanctl" "$RUN/bin/yizhanctl"
ln -sf "$BIN/yizhan-station" "$RUN/bin/yizhan-station"
ln -sf "$BIN/yizhan-collector" "$RUN/bin/yizhan-collector"
cd "$ROOT"

[ -s "$RUN/region.key" ] || head -c 32 /dev/urandom > "$RUN/region.key"

# The collector, and the stations and office user it knows (provisioned once).
cat > "$RUN/collector.toml" <<TOML
[http]
listen = "127.0.0.1:$CPORT"
[storage]
url = "sqlite://$RUN/collector/collector.db"
[ingest]
offline_after_seconds = 30
TOML
provision() {  # id name district capacity lat lon
  [ -s "$RUN/$1.token" ] && return
  "$BIN/yizhan-collector" station add --config "$RUN/collector.toml" --id "$1" --name "$2" --district "$3" \
    --capacity "$4" --lat "$5" --lon "$6" | tail -n 1 > "$RUN/$1.token"
}
provision pt-demo-01 "普工e家·沈家门站" "普陀区" 8 29.95 122.30
provision pt-demo-02 "骑手之家·东港站" "普陀区" 12 29.96 122.32
if [ ! -s "$RUN/office.token" ]; then
  echo "demo-password" | "$BIN/yizhan-collector" user add --config "$RUN/collector.toml" --name office --role office \
    | tail -n 1 > "$RUN/office.token"
fi

station_config() {  # id name port capacity readers-toml
  cat > "$RUN/$1.toml" <<TOML
[station]
id = "$1"
name = "$2"
capacity = $4
data_dir = "$RUN/$1"

[visits]
debounce_seconds = 5
maximum_stay_minutes = 30

[http]
listen = "127.0.0.1:$3"

[privacy]
region_key_file = "$RUN/region.key"

[uplink]
collector = "http://127.0.0.1:$CPORT"
token_file = "$RUN/$1.token"
heartbeat_seconds = 10

$5

[[amenities]]
kind = "air_conditioner"
[[amenities]]
kind = "microwave"
[[amenities]]
kind = "water_dispenser"
[[amenities]]
kind = "phone_charging"
[[amenities]]
kind = "toilet"
[[amenities]]
kind = "first_aid"
[[amenities]]
kind = "umbrella_loan"
TOML
}
station_config pt-demo-01 "普工e家·沈家门站" "$PORT" 8 "
[[readers]]
name = \"door\"
protocol = \"idcard-sam\"
device = \"$RUN/pt-demo-01-door.tty\"

[[readers]]
name = \"rfid\"
protocol = \"rdm6300\"
device = \"$RUN/pt-demo-01-rfid.tty\"

[[readers]]
name = \"wedge\"
protocol = \"hid\"
device = \"$RUN/pt-demo-01-wedge.fifo\""
station_config pt-demo-02 "骑手之家·东港站" "$((PORT + 1))" 12 "
[[readers]]
name = \"door\"
protocol = \"idcard-sam\"
device = \"$RUN/pt-demo-02-door.tty\"

[[readers]]
name = \"counter\"
protocol = \"line\"
device = \"$RUN/pt-demo-02-line.tty\""

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs and databases stay in demo-run/ (run make demo again to continue)"
}
trap cleanup INT TERM EXIT

"$BIN/yizhan-collector" serve --config "$RUN/collector.toml" 2>"$RUN/collector.log" & pids+=($!)

# Simulated readers: pools of workers swiping every few seconds.
sim() { "$BIN/yizhanctl" simulate "$@" & pids+=($!); }
sim idcard --link "$RUN/pt-demo-01-door.tty" --commands "random 100000 6" 2>"$RUN/sim-01-door.log"
sim rdm6300 --link "$RUN/pt-demo-01-rfid.tty" --commands "random 100000 9" 2>"$RUN/sim-01-rfid.log"
sim hid --fifo --link "$RUN/pt-demo-01-wedge.fifo" --stay --commands "wait 4; swipe 0001234567; wait 2; corrupt; swipe 0007654321" 2>"$RUN/sim-01-wedge.log"
sim idcard --link "$RUN/pt-demo-02-door.tty" --commands "random 100000 5" 2>"$RUN/sim-02-door.log"
sim line --link "$RUN/pt-demo-02-line.tty" --commands "random 100000 7" 2>"$RUN/sim-02-line.log"
sleep 0.5
"$BIN/yizhan-station" --config "$RUN/pt-demo-01.toml" 2>"$RUN/pt-demo-01.log" & pids+=($!)
"$BIN/yizhan-station" --config "$RUN/pt-demo-02.toml" 2>"$RUN/pt-demo-02.log" & pids+=($!)

for log in pt-demo-01 pt-demo-02; do
  for _ in $(seq 1 100); do grep -q "ready" "$RUN/$log.log" 2>/dev/null && break; sleep 0.1; done
  if ! grep -q "ready" "$RUN/$log.log"; then echo "station $log did not start; its log:" >&2; cat "$RUN/$log.log" >&2; exit 1; fi
done
for _ in $(seq 1 100); do grep -q "collector listening" "$RUN/collector.log" 2>/dev/null && break; sleep 0.1; done
# A manager login for the demo's pages.
echo "demo-password" | "$BIN/yizhanctl" --config "$RUN/pt-demo-01.toml" manager add --name demo >/dev/null

cat <<MSG

  Yizhan demo: a collector and two stations with five simulated readers.

  Collector   dashboard: http://127.0.0.1:$CPORT/   (office / demo-password; API token in demo-run/office.token)
              curl -s -H "Authorization: Bearer \$(cat demo-run/office.token)" http://127.0.0.1:$CPORT/api/v1/stations
              curl -s -H "Authorization: Bearer \$(cat demo-run/office.token)" "http://127.0.0.1:$CPORT/api/v1/usage?bucket=hour&from=\$(date +%F)"
  Station 1   kiosk: http://127.0.0.1:$PORT/kiosk   (open it in a browser)
              manager pages: http://127.0.0.1:$PORT/manage   (demo / demo-password)
              demo-run/bin/yizhanctl --config demo-run/pt-demo-01.toml status | log | readers | amenity | checkout-all
              demo-run/bin/yizhanctl --config demo-run/pt-demo-01.toml amenity microwave out_of_order --note "门关不上"
              http://127.0.0.1:$PORT/healthz   http://127.0.0.1:$PORT/metrics
  Station 2   kiosk: http://127.0.0.1:$((PORT + 1))/kiosk
              demo-run/bin/yizhanctl --config demo-run/pt-demo-02.toml status
  Logs        demo-run/collector.log, demo-run/pt-demo-01.log, demo-run/pt-demo-02.log

  Press Ctrl-C to stop.
MSG

if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
  "$BIN/yizhanctl" --config "$RUN/pt-demo-01.toml" status
  "$BIN/yizhanctl" --config "$RUN/pt-demo-01.toml" log --last 6
  curl -s -H "Authorization: Bearer $(cat "$RUN/office.token")" "http://127.0.0.1:$CPORT/api/v1/stations"; echo
  curl -s -H "Authorization: Bearer $(cat "$RUN/office.token")" "http://127.0.0.1:$CPORT/api/v1/usage?bucket=day"; echo
else
  wait "${pids[0]}"
fi
