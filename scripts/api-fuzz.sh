#!/usr/bin/env bash
# API fuzzing with schemathesis (make api-fuzz; make test runs it after the Swift tests).
#
# Starts a real yizhan-collector on SQLite and a real yizhan-station with a simulated line
# reader (both on loopback, ports chosen by the kernel), provisions a station token and an
# office user token, then lets schemathesis generate requests from
#   docs/openapi.json          against the collector (both security schemes),
#   docs/station-openapi.json  against the station: /healthz, /metrics and the kiosk over
#                              its TCP port, the /api/v1 JSON API over its unix socket
#                              (reached through socat on a loopback port).
# Checks: no 5xx; every status code, content type and JSON body is one the document
# describes; a request the document says is invalid gets a 4xx; the collector refuses
# requests without their credentials. Over TCP every /api/v1 path of the station must
# answer 401, and both servers must still be running at the end.
#
#   scripts/api-fuzz.sh BIN_DIR        (BIN_DIR: where swift build put the executables)
#
# Environment: ST (the schemathesis command; default: the virtualenv make deps creates in
# .build/api-fuzz-venv, else st on PATH), API_FUZZ_EXAMPLES (test cases per operation and
# phase, default 100), API_FUZZ_CHECKS (schemathesis checks), API_FUZZ_TIMEOUT (seconds allowed for each schemathesis run, default
# 300), API_FUZZ_KEEP=1 (keep the scratch directory with the logs and reports).
# Generation is derandomized (--generation-deterministic): the same binaries and documents
# give the same requests on every run.
set -euo pipefail
BIN=${1:?usage: api-fuzz.sh BIN_DIR}
BIN=$(cd "$BIN" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXAMPLES=${API_FUZZ_EXAMPLES:-100}
BUDGET=${API_FUZZ_TIMEOUT:-300}
CHECKS=${API_FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection}

if [ -z "${ST:-}" ]; then
  if [ -x "$ROOT/.build/api-fuzz-venv/bin/st" ]; then ST="$ROOT/.build/api-fuzz-venv/bin/st"
  elif command -v st >/dev/null; then ST=$(command -v st)
  else echo "api-fuzz: schemathesis not found (make deps installs it in .build/api-fuzz-venv)" >&2; exit 1
  fi
fi
# An absolute path: the fuzzing runs from the scratch directory.
case $ST in
  /*) ;;
  */*) ST="$(cd "$(dirname "$ST")" && pwd)/$(basename "$ST")" ;;
  *) ST=$(command -v "$ST") ;;
esac
[ -x "$ST" ] || { echo "api-fuzz: $ST is not executable (make deps installs schemathesis)" >&2; exit 1; }
for tool in curl socat python3; do
  command -v "$tool" >/dev/null || { echo "api-fuzz: $tool is missing (make deps installs it)" >&2; exit 1; }
done
for exe in yizhan-collector yizhan-station yizhanctl; do
  [ -x "$BIN/$exe" ] || { echo "api-fuzz: $BIN/$exe not found (swift build first)" >&2; exit 1; }
done

RUN=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-api-fuzz.XXXXXX")
pids=()
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${API_FUZZ_KEEP:-}" = 1 ] || [ "$status" != 0 ]; then
    echo "api-fuzz: logs and reports kept in $RUN" >&2
  else
    rm -rf "$RUN"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port from the log line "... listening on http://127.0.0.1:PORT" (bounded poll; the
# process must stay alive meanwhile).
port_from_log() {  # log pid
  local port
  for _ in $(seq 1 300); do
    port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$1" 2>/dev/null | head -n 1 | grep -oE '[0-9]+$' || true)
    if [ -n "$port" ]; then echo "$port"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "api-fuzz: no \"listening on\" line in $1; the log:" >&2
  cat "$1" >&2
  return 1
}
# Until GET /healthz answers 200 (bounded).
wait_healthy() {  # base-url what
  for _ in $(seq 1 100); do
    curl -fsS --max-time 2 -o /dev/null "$1/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "api-fuzz: $2 at $1 never answered /healthz with 200" >&2
  return 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the collector -------------------------------------------------------------------
mkdir -p "$RUN/collector"
cat > "$RUN/collector.toml" <<TOML
[http]
listen = "127.0.0.1:0"
[storage]
url = "sqlite://$RUN/collector/collector.db"
[ingest]
max_body_kilobytes = 1024
offline_after_seconds = 60
[public]
# The fuzzer asks thousands of questions from one address; 429 is documented, but an
# answer is worth more to it.
requests_per_second = 100000
burst = 100000
TOML
# pt-shenjiamen-01 is the station of the document's examples (the fuzzer posts as it);
# pt-fuzz-station is the real station below, which reports to this collector.
"$BIN/yizhan-collector" station add --config "$RUN/collector.toml" --id pt-shenjiamen-01 --name "普工e家·沈家门站" \
  --district "普陀区" --capacity 12 --lat 29.95 --lon 122.30 | tail -n 1 > "$RUN/example-station.token"
"$BIN/yizhan-collector" station add --config "$RUN/collector.toml" --id pt-fuzz-station --name "模糊测试站" \
  --district "普陀区" --capacity 8 --lat 29.951 --lon 122.301 | tail -n 1 > "$RUN/station.token"
echo "api-fuzz-password" | "$BIN/yizhan-collector" user add --config "$RUN/collector.toml" --name office --role office \
  | tail -n 1 > "$RUN/office.token"
for t in example-station station office; do
  [ -s "$RUN/$t.token" ] || { echo "api-fuzz: provisioning gave no $t token" >&2; exit 1; }
done

"$BIN/yizhan-collector" serve --config "$RUN/collector.toml" 2>"$RUN/collector.log" & pids+=($!)
COLLECTOR_PID=$!
CPORT=$(port_from_log "$RUN/collector.log" "$COLLECTOR_PID")
COLLECTOR="http://127.0.0.1:$CPORT"
wait_healthy "$COLLECTOR" "the collector"

# --- the station, with a simulated line reader, reporting to the collector ------------
head -c 32 /dev/urandom > "$RUN/region.key"
cat > "$RUN/station.toml" <<TOML
[station]
id = "pt-fuzz-station"
name = "模糊测试站"
capacity = 8
data_dir = "$RUN/station"

[visits]
debounce_seconds = 1
maximum_stay_minutes = 30

[http]
listen = "127.0.0.1:0"

[privacy]
region_key_file = "$RUN/region.key"

[uplink]
collector = "$COLLECTOR"
token_file = "$RUN/station.token"
heartbeat_seconds = 5

[[readers]]
name = "counter"
protocol = "line"
device = "$RUN/counter.tty"

[[amenities]]
kind = "air_conditioner"
[[amenities]]
kind = "microwave"
[[amenities]]
kind = "water_dispenser"
[[amenities]]
kind = "toilet"
TOML
"$BIN/yizhanctl" simulate line --link "$RUN/counter.tty" --commands "random 100000 1" 2>"$RUN/simulator.log" & pids+=($!)
for _ in $(seq 1 50); do [ -e "$RUN/counter.tty" ] && break; sleep 0.1; done
"$BIN/yizhan-station" --config "$RUN/station.toml" 2>"$RUN/station.log" & pids+=($!)
STATION_PID=$!
SPORT=$(port_from_log "$RUN/station.log" "$STATION_PID")
STATION="http://127.0.0.1:$SPORT"
wait_healthy "$STATION" "the station"

# The station's JSON API is on a unix socket; socat forwards a loopback port to it.
SOCKET="$RUN/station/station.sock"
for _ in $(seq 1 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
[ -S "$SOCKET" ] || { echo "api-fuzz: no API socket at $SOCKET" >&2; exit 1; }
FORWARD=""
for _ in 1 2 3 4 5; do  # the free port may be taken before socat binds it: try another
  FPORT=$(free_port)
  socat "TCP-LISTEN:$FPORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$SOCKET" 2>>"$RUN/socat.log" & pids+=($!)
  if wait_healthy "http://127.0.0.1:$FPORT" "socat" 2>/dev/null; then FORWARD="http://127.0.0.1:$FPORT"; break; fi
  kill "$!" 2>/dev/null || true
done
[ -n "$FORWARD" ] || { echo "api-fuzz: socat could not forward to $SOCKET" >&2; cat "$RUN/socat.log" >&2; exit 1; }
echo "api-fuzz: collector $COLLECTOR, station $STATION, station API socket via $FORWARD"

# --- schemathesis --------------------------------------------------------------------
# The collector's credentials, per security scheme of docs/openapi.json; the station's
# documents have none (the socket is guarded by file permissions).
cat > "$RUN/collector-schemathesis.toml" <<TOML
[auth.openapi.stationToken]
bearer = "\${STATION_TOKEN}"
[auth.openapi.userToken]
bearer = "\${USER_TOKEN}"
TOML
: > "$RUN/station-schemathesis.toml"
export STATION_TOKEN USER_TOKEN
STATION_TOKEN=$(cat "$RUN/example-station.token")
USER_TOKEN=$(cat "$RUN/office.token")

failed=()
cd "$RUN"   # nothing of schemathesis's (reports, caches) lands in the repository
fuzz() {  # name config document base-url checks [st run options...]
  local name=$1 config=$2 document=$3 url=$4 checks=$5
  shift 5
  echo
  echo "== api-fuzz: $name: $(basename "$document") against $url"
  local start=$SECONDS status=0
  # In the background and waited for, so that Ctrl-C or TERM stops it at once (the
  # cleanup kills it with the servers); timeout passes the signal on to schemathesis.
  timeout --kill-after=10 "$BUDGET" "$ST" --config-file "$config" --no-color run "$document" \
    --url "$url" --checks "$checks" --max-examples "$EXAMPLES" --generation-deterministic \
    --phases examples,coverage,fuzzing --workers 1 --request-timeout 10 \
    --report junit --report-junit-path "$RUN/$name.junit.xml" "$@" & pids+=($!)
  wait "$!" || status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "api-fuzz: $name did not finish within $BUDGET s (a server hanging?)" >&2
  fi
  [ "$status" = 0 ] || failed+=("$name")
  echo "== api-fuzz: $name took $((SECONDS - start)) s (exit status $status)"
}

fuzz collector "$RUN/collector-schemathesis.toml" "$ROOT/docs/openapi.json" "$COLLECTOR" "$CHECKS,ignored_auth"
fuzz station-tcp "$RUN/station-schemathesis.toml" "$ROOT/docs/station-openapi.json" "$STATION" "$CHECKS" --include-path-regex '^/(healthz|metrics|kiosk/)'
fuzz station-socket "$RUN/station-schemathesis.toml" "$ROOT/docs/station-openapi.json" "$FORWARD" "$CHECKS" --include-path-regex '^/api/v1/'

# Over TCP the station's API refuses everyone (the kiosk browser must not read the log).
echo
for op in "GET /api/v1/status" "GET /api/v1/events" "POST /api/v1/card-key" "POST /api/v1/checkout-all" \
          "POST /api/v1/amenity" "POST /api/v1/manager"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "${op%% *}" -H 'Content-Type: application/json' \
           --data-binary '{}' "$STATION${op#* }" || true)
  if [ "$code" != 401 ]; then echo "api-fuzz: $op over TCP answered $code, expected 401" >&2; failed+=("station-tcp-refusal"); fi
done

# The servers must have survived it all.
kill -0 "$COLLECTOR_PID" 2>/dev/null || { echo "api-fuzz: the collector died; its log:" >&2; tail -n 50 "$RUN/collector.log" >&2; failed+=("collector-alive"); }
kill -0 "$STATION_PID" 2>/dev/null || { echo "api-fuzz: the station died; its log:" >&2; tail -n 50 "$RUN/station.log" >&2; failed+=("station-alive"); }

if [ ${#failed[@]} -gt 0 ]; then
  echo "api-fuzz: FAILED: ${failed[*]} (schemathesis's report is above; server logs in $RUN)" >&2
  for log in collector station; do
    if grep -qiE 'error|critical|fatal' "$RUN/$log.log"; then
      echo "--- $log.log (errors)" >&2
      grep -iE 'error|critical|fatal' "$RUN/$log.log" | tail -n 20 >&2
    fi
  done
  exit 1
fi
echo "api-fuzz: no server errors and no responses outside the documents"
