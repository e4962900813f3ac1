#!/usr/bin/env bash
# make demo: a station with simulated readers (a GA 467 ID-card reader, an RDM6300 RFID
# reader and a keyboard-wedge reader) on embedded SQLite, all under ./demo-run.
# Ctrl-C stops everything. DEMO_PORT (default 8080) and DEMO_SECONDS (run for that long,
# then stop) can be set.
set -euo pipefail
BIN=${1:?usage: demo.sh BIN_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN="$ROOT/demo-run"
PORT=${DEMO_PORT:-8080}
mkdir -p "$RUN"
rm -f "$RUN"/*.log

[ -s "$RUN/region.key" ] || head -c 32 /dev/urandom > "$RUN/region.key"
cat > "$RUN/station.toml" <<TOML
[station]
id = "pt-demo-01"
name = "普工e家·演示站"
capacity = 8
data_dir = "$RUN/data"

[visits]
debounce_seconds = 5
maximum_stay_minutes = 30

[http]
listen = "127.0.0.1:$PORT"

[privacy]
region_key_file = "$RUN/region.key"

[[readers]]
name = "door"
protocol = "idcard-sam"
device = "$RUN/door.tty"

[[readers]]
name = "rfid"
protocol = "rdm6300"
device = "$RUN/rfid.tty"

[[readers]]
name = "wedge"
protocol = "hid"
device = "$RUN/wedge.fifo"
TOML

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; the log stays in $RUN/data (yizhan-station --config $RUN/station.toml to look again)"
}
trap cleanup INT TERM EXIT

# Simulated readers: a pool of workers swiping every few seconds.
"$BIN/yizhanctl" simulate idcard --link "$RUN/door.tty" --commands "random 100000 6" 2>"$RUN/sim-door.log" & pids+=($!)
"$BIN/yizhanctl" simulate rdm6300 --link "$RUN/rfid.tty" --commands "random 100000 9" 2>"$RUN/sim-rfid.log" & pids+=($!)
"$BIN/yizhanctl" simulate hid --fifo --link "$RUN/wedge.fifo" --commands "wait 4; swipe 0001234567; wait 2; corrupt; swipe 0007654321" --stay 2>"$RUN/sim-wedge.log" & pids+=($!)
sleep 0.5
"$BIN/yizhan-station" --config "$RUN/station.toml" 2>"$RUN/station.log" & pids+=($!)

for _ in $(seq 1 100); do
  grep -q "ready" "$RUN/station.log" 2>/dev/null && break
  sleep 0.1
done
if ! grep -q "ready" "$RUN/station.log"; then
  echo "the station did not start; its log:" >&2
  cat "$RUN/station.log" >&2
  exit 1
fi

# Short paths for the banner.
mkdir -p "$RUN/bin"
ln -sf "$BIN/yizhanctl" "$RUN/bin/yizhanctl"
ln -sf "$BIN/yizhan-station" "$RUN/bin/yizhan-station"
cd "$ROOT"
CTL="demo-run/bin/yizhanctl --config demo-run/station.toml"
cat <<MSG

  Yizhan demo station "pt-demo-01" is running with three simulated readers.

  Health      http://127.0.0.1:$PORT/healthz
  Metrics     http://127.0.0.1:$PORT/metrics
  Status      $CTL status
  Visit log   $CTL log            (--format json | csv, --since 2026-11-23, --card <number>)
  Readers     $CTL readers
  Close day   $CTL checkout-all
  Your swipe  demo-run/bin/yizhanctl simulate line --link demo-run/mine.tty, then add a
              [[readers]] with device = "demo-run/mine.tty" (protocol "line") and type: swipe 12345678
  Daemon log  demo-run/station.log

  Press Ctrl-C to stop.
MSG

if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
  $CTL status
  $CTL log --last 8
else
  wait "${pids[-1]}"
fi
