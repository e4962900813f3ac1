#!/usr/bin/env bash
# The fresh-box test (make test-install; CI runs it after make test).
#
#   scripts/test-install.sh DIST_DIR VERSION1 VERSION2 [WORK_DIR]
#
# A minimal Debian 12 (debootstrap --variant=minbase, kept as a tarball in WORK_DIR so a
# second run does not fetch it again) is unpacked fresh, and there, as root in a chroot:
#   1. apt-get install ./yizhan-station_V1.deb ./yizhan-collector_V1.deb (dependencies
#      from Debian); every executable answers --version and --help; users, groups and
#      folders exist; systemd-analyze verify passes on the installed units; the example
#      configuration does not pass --check-config (it never runs as a station).
#   2. The station runs as user yizhan with a simulated reader (yizhanctl simulate) and
#      records check-ins; the collector it reports to is down, so a backlog builds up and
#      two visits stay open.
#   3. V2 is installed over the running station, which is then restarted on the new
#      binary (as postinst does under systemd): every event is still there, the visits are
#      still open, the version is V2.
#   4. The collector (V2) starts as an unprivileged user (as DynamicUser= would run it) and
#      answers; the station's backlog drains to it.
#   5. A schema from a newer version is refused with a clear message.
#   6. remove keeps configuration and data, purge removes configuration and keeps the data
#      (docs/install.md, "Removing").
# No systemd runs in the chroot: the daemons are started by hand. Traffic stays on
# loopback; only debootstrap and apt reach deb.debian.org.
set -euo pipefail

DIST=$(realpath "${1:?usage: test-install.sh DIST_DIR VERSION1 VERSION2 [WORK_DIR]}")
V1=${2:?version 1}
V2=${3:?version 2}
WORK=$(realpath -m "${4:-.build-install}")
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ARCH=$(dpkg --print-architecture)
CACHE=$WORK/bookworm-minbase-$ARCH.tar
ROOT=$WORK/root
APT_CACHE=$WORK/apt-archives
# Ports on loopback for the station's HTTP side and the collector.
STATION_PORT=${STATION_PORT:-47180}
COLLECTOR_PORT=${COLLECTOR_PORT:-47190}
# The collector's stand-in for a DynamicUser= uid: no account, no home.
COLLECTOR_UID=61190

[ "$(id -u)" = 0 ] || { echo "test-install: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
for f in "yizhan-station_${V1}_$ARCH" "yizhan-collector_${V1}_$ARCH" "yizhan-station_${V2}_$ARCH" "yizhan-collector_${V2}_$ARCH"; do
    [ -f "$DIST/$f.deb" ] || { echo "test-install: $DIST/$f.deb missing (make test-install builds it)" >&2; exit 2; }
done
for port in "$STATION_PORT" "$COLLECTOR_PORT"; do
    if ss -Htln "sport = :$port" | grep -q .; then echo "test-install: port $port is taken on this machine" >&2; exit 2; fi
done

start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - start))"; }
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }
pass() { echo "  ok: $*"; }
IN_ROOT=(chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root)
in_root() { "${IN_ROOT[@]}" "$@"; }
# Background processes are started as plain commands (not through a function, which would
# put a subshell in between), so $! is the daemon itself: chroot, env and setpriv exec.
AS_YIZHAN=("${IN_ROOT[@]}" setpriv --reuid=yizhan --regid=yizhan --init-groups)

# --- the box -------------------------------------------------------------------------
if [ ! -s "$CACHE" ]; then
    step "debootstrap a minimal Debian 12 ($MIRROR) into $WORK (cached for later runs)"
    rm -rf "$WORK/bootstrap"; mkdir -p "$WORK"
    debootstrap --variant=minbase bookworm "$WORK/bootstrap" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    tar -C "$WORK/bootstrap" -cf "$CACHE.part" . && mv "$CACHE.part" "$CACHE"
    rm -rf "$WORK/bootstrap"
else
    step "a fresh box from the cached tree $CACHE"
fi

mounted=()
pids=()
cleanup() {
    local status=$?
    set +e
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
    done
    if [ $status -ne 0 ] && [ -d "$ROOT/var/log/yizhan-test" ]; then
        for log in "$ROOT"/var/log/yizhan-test/*.log; do echo "--- ${log#"$ROOT"}"; tail -15 "$log"; done
    fi
    echo "test-install: $([ $status -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
    exit $status
}
trap cleanup EXIT INT TERM

rm -rf "$ROOT"; mkdir -p "$ROOT" "$APT_CACHE/partial"
tar -C "$ROOT" -xf "$CACHE"
mount -t proc proc "$ROOT/proc"; mounted+=("$ROOT/proc")
mount --bind /dev "$ROOT/dev"; mounted+=("$ROOT/dev")
mount --bind /dev/pts "$ROOT/dev/pts"; mounted+=("$ROOT/dev/pts")
mount --bind /sys "$ROOT/sys"; mounted+=("$ROOT/sys")
mount -o remount,bind,ro "$ROOT/sys"
# Downloaded .debs are kept between runs (apt's cache lives outside the box).
mount --bind "$APT_CACHE" "$ROOT/var/cache/apt/archives"; mounted+=("$ROOT/var/cache/apt/archives")
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mkdir -p "$ROOT/tmp/debs" "$ROOT/var/log/yizhan-test"
cp "$DIST"/*_"${V1}"_"$ARCH".deb "$DIST"/*_"${V2}"_"$ARCH".deb "$ROOT/tmp/debs/"
# No Swift anywhere on the box.
[ -z "$(find "$ROOT" -xdev -name 'libswiftCore*' -print -quit)" ] || fail "a Swift runtime is on the fresh box"

step "apt-get install ./yizhan-station_$V1 ./yizhan-collector_$V1 (dependencies from Debian)"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "/tmp/debs/yizhan-station_${V1}_$ARCH.deb" "/tmp/debs/yizhan-collector_${V1}_$ARCH.deb" \
    >"$ROOT/var/log/yizhan-test/apt-v1.log" 2>&1 || { tail -30 "$ROOT/var/log/yizhan-test/apt-v1.log"; fail "apt-get install v1"; }
grep -E "^yizhan-|not started" "$ROOT/var/log/yizhan-test/apt-v1.log" || true
in_root dpkg --verify yizhan-station yizhan-collector || fail "dpkg --verify"
pass "installed; dpkg --verify clean"

step "executables, users, folders, units"
for exe in yizhan-station yizhanctl yizhan-collector; do
    got=$(in_root "$exe" --version) || fail "$exe --version"
    [ "$got" = "$V1" ] || fail "$exe --version says $got, expected $V1"
    in_root "$exe" --help >/dev/null || fail "$exe --help"
    in_root test -s "/usr/share/man/man1/$exe.1.gz" || fail "no manual page for $exe"
    in_root test -s "/usr/share/bash-completion/completions/$exe" || fail "no bash completion for $exe"
done
pass "yizhan-station, yizhanctl, yizhan-collector --version = $V1; --help; man pages; completions"
ldd_missing=$(in_root sh -c 'ldd /usr/bin/yizhan-station /usr/bin/yizhanctl /usr/bin/yizhan-collector | grep "not found"' || true)
[ -z "$ldd_missing" ] || fail "missing libraries: $ldd_missing"
in_root getent passwd yizhan >/dev/null || fail "user yizhan missing"
in_root getent passwd yizhan-kiosk >/dev/null || fail "user yizhan-kiosk missing"
groups=$(in_root id -nG yizhan)
for g in yizhan dialout input; do [[ " $groups " == *" $g "* ]] || fail "yizhan is not in group $g ($groups)"; done
[ "$(in_root stat -c '%a %U %G' /etc/yizhan)" = "750 root yizhan" ] || fail "/etc/yizhan is $(in_root stat -c '%a %U %G' /etc/yizhan)"
in_root test -f /etc/yizhan/station.example.toml || fail "station example missing"
in_root test -f /etc/yizhan-collector/collector.example.toml || fail "collector example missing"
in_root dpkg-query -W -f='${Conffiles}\n' yizhan-station | grep -q /etc/yizhan/station.example.toml || fail "example not a conffile"
in_root test -f /lib/udev/rules.d/70-yizhan-readers.rules || fail "udev rules missing"
pass "users yizhan (groups: $groups) and yizhan-kiosk; /etc/yizhan 750 root:yizhan; conffiles; udev rules"
# --man=no: a minimal box has no man-db to look the Documentation= pages up (they are checked
# above). The kiosk unit is left out: its ExecStart is cage, which the package only suggests
# (make test's scripts/verify-units.sh checks that unit).
in_root systemd-analyze verify --man=no /lib/systemd/system/yizhan-station.service \
    /lib/systemd/system/yizhan-collector.service >"$ROOT/var/log/yizhan-test/verify.log" 2>&1 ||
    { cat "$ROOT/var/log/yizhan-test/verify.log"; fail "systemd-analyze verify"; }
if grep -i "yizhan" "$ROOT/var/log/yizhan-test/verify.log"; then fail "systemd-analyze verify complained about a yizhan unit"; fi
pass "systemd-analyze verify: yizhan-station and yizhan-collector units clean"
if in_root yizhan-station --config /etc/yizhan/station.example.toml --check-config >/dev/null 2>&1; then
    fail "the example configuration passes --check-config: it could run as a station"
fi
grep -q '^ConditionPathExists=/etc/yizhan/station.toml' "$ROOT/lib/systemd/system/yizhan-station.service" || fail "unit lacks the condition"
pass "the example never runs: --check-config refuses it and the unit waits for /etc/yizhan/station.toml"

# --- a configured station --------------------------------------------------------------
step "station v$V1 as user yizhan with a simulated reader; collector down"
head -c 32 /dev/urandom > "$ROOT/etc/yizhan/region.key"
cat > "$ROOT/etc/yizhan/station.toml" <<TOML
[station]
id = "pt-install-01"
name = "安装测试站"
capacity = 8
data_dir = "/var/lib/yizhan"

[http]
listen = "127.0.0.1:$STATION_PORT"

[privacy]
region_key_file = "/etc/yizhan/region.key"

[[readers]]
name = "door"
protocol = "line"
device = "/run/yizhan-test/door.tty"

[uplink]
collector = "http://127.0.0.1:$COLLECTOR_PORT"
token_file = "/etc/yizhan/station.token"
heartbeat_seconds = 5
TOML
in_root sh -c 'chgrp yizhan /etc/yizhan/region.key /etc/yizhan/station.toml && chmod 0640 /etc/yizhan/region.key /etc/yizhan/station.toml'
# What StateDirectory= would make; the simulator's link lives in a folder of its own.
in_root install -d -o yizhan -g yizhan -m 0750 /var/lib/yizhan
in_root install -d -o yizhan -g yizhan -m 0755 /run/yizhan-test
# The collector's database and the station's token, provisioned before the collector runs
# (the collector stays down until step 4).
cat > "$ROOT/etc/yizhan-collector/collector.toml" <<TOML
[http]
listen = "127.0.0.1:$COLLECTOR_PORT"

[storage]
url = "sqlite:///var/lib/yizhan-collector/collector.db"
TOML
in_root install -d -o $COLLECTOR_UID -g $COLLECTOR_UID -m 0750 /var/lib/yizhan-collector
AS_COLLECTOR=("${IN_ROOT[@]}" setpriv --reuid=$COLLECTOR_UID --regid=$COLLECTOR_UID --clear-groups)
as_collector() { "${AS_COLLECTOR[@]}" "$@"; }
as_collector yizhan-collector station add --config /etc/yizhan-collector/collector.toml --id pt-install-01 \
    --name "安装测试站" --district "测试区" --capacity 8 --lat 29.95 --lon 122.30 2>"$ROOT/var/log/yizhan-test/provision.log" \
    | tail -n 1 > "$ROOT/etc/yizhan/station.token" || fail "yizhan-collector station add"
in_root sh -c 'chgrp yizhan /etc/yizhan/station.token && chmod 0640 /etc/yizhan/station.token'
[ -s "$ROOT/etc/yizhan/station.token" ] || fail "no station token"
in_root yizhan-station --config /etc/yizhan/station.toml --check-config || fail "--check-config on the test configuration"

as_yizhan() { "${AS_YIZHAN[@]}" "$@"; }
# Waits up to $1 seconds for a condition (a shell command); no fixed sleeps.
await() {
    local seconds=$1; shift
    local deadline=$(($(date +%s) + seconds))
    until "$@"; do
        [ "$(date +%s)" -lt $deadline ] || return 1
        sleep 0.2
    done
}
status_json() { in_root yizhanctl --config /etc/yizhan/station.toml status --format json 2>/dev/null; }
status_field() { status_json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"; }
log_json() { in_root yizhanctl --config /etc/yizhan/station.toml log --format json 2>/dev/null; }
count_kind() { log_json | python3 -c "import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)['kind']==sys.argv[1]))" "$1"; }

start_station() {
    "${AS_YIZHAN[@]}" yizhan-station --config /etc/yizhan/station.toml >>"$ROOT/var/log/yizhan-test/station.log" 2>&1 &
    station_pid=$!; pids+=("$station_pid")
    await 30 status_json >/dev/null || fail "the station did not answer yizhanctl status"
}
stop_station() {
    kill -TERM "$station_pid"
    wait "$station_pid" || true
    ! kill -0 "$station_pid" 2>/dev/null || fail "the station did not stop"
}

# The simulated reader takes its commands from a FIFO, so the swipes go out only once the
# station has the reader open (a swipe on a reader nobody reads is lost, as at a real door).
mkfifo "$ROOT/run/yizhan-test/sim.commands"
exec 7<>"$ROOT/run/yizhan-test/sim.commands"
"${AS_YIZHAN[@]}" yizhanctl simulate line --link /run/yizhan-test/door.tty --stay --script - \
    <"$ROOT/run/yizhan-test/sim.commands" >"$ROOT/var/log/yizhan-test/sim.log" 2>&1 &
pids+=($!)
await 20 test -L "$ROOT/run/yizhan-test/door.tty" || fail "the simulated reader did not appear"
start_station
reader_up() { [ "$(status_field "readers[0]['state']")" = up ]; }
await 30 reader_up || fail "the station did not open the simulated reader"
printf 'swipe 0001234567\nswipe 0007654321\n' >&7
has_two_inside() { [ "$(status_field occupancy)" = 2 ]; }
await 60 has_two_inside || fail "two check-ins were not recorded (occupancy $(status_field occupancy))"
[ "$(count_kind check_in)" = 2 ] || fail "expected 2 check_in events, found $(count_kind check_in)"
backlog_built() { [ "$(status_field "uplink['backlog']")" -ge 3 ]; }
await 30 backlog_built || fail "no backlog built up while the collector is down"
[ "$(status_field version)" = "$V1" ] || fail "status version $(status_field version), expected $V1"
log_json > "$WORK/events-v1.jsonl"
pass "2 check-ins recorded (occupancy 2); $(wc -l < "$WORK/events-v1.jsonl") events; backlog $(status_field "uplink['backlog']"); version $V1"

# --- upgrade ------------------------------------------------------------------------------
step "apt-get install v$V2 over the running station"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "/tmp/debs/yizhan-station_${V2}_$ARCH.deb" "/tmp/debs/yizhan-collector_${V2}_$ARCH.deb" \
    >"$ROOT/var/log/yizhan-test/apt-v2.log" 2>&1 || { tail -30 "$ROOT/var/log/yizhan-test/apt-v2.log"; fail "apt-get install v2"; }
[ "$(in_root dpkg-query -W -f='${Version}' yizhan-station)" = "$V2" ] || fail "yizhan-station is not at $V2"
kill -0 "$station_pid" || fail "the station stopped during the upgrade"
[ "$(in_root stat -c %s /etc/yizhan/station.toml)" -gt 0 ] && in_root test -s /etc/yizhan/region.key || fail "configuration lost"
# postinst restarts the unit under systemd; here the test does it.
stop_station
start_station
[ "$(in_root yizhan-station --version)" = "$V2" ] || fail "yizhan-station --version is not $V2"
[ "$(status_field version)" = "$V2" ] || fail "the restarted station reports $(status_field version)"
log_json > "$WORK/events-v2.jsonl"
python3 - "$WORK/events-v1.jsonl" "$WORK/events-v2.jsonl" <<'PY' || fail "events changed across the upgrade"
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = {e["seq"]: e for e in map(json.loads, open(sys.argv[2]))}
lost = [e["seq"] for e in before if after.get(e["seq"]) != e]
if lost: sys.exit(f"events lost or changed: {lost}")
PY
[ "$(status_field occupancy)" = 2 ] || fail "the open visits did not survive the upgrade (occupancy $(status_field occupancy))"
pass "all $(wc -l < "$WORK/events-v1.jsonl") events kept, 2 visits still open, version $V2, backlog $(status_field "uplink['backlog']")"

step "collector v$V2 starts; the backlog drains"
"${AS_COLLECTOR[@]}" yizhan-collector serve --config /etc/yizhan-collector/collector.toml >"$ROOT/var/log/yizhan-test/collector.log" 2>&1 &
pids+=($!)
collector_answers() { curl -sf --max-time 2 "http://127.0.0.1:$COLLECTOR_PORT/healthz" >/dev/null; }
await 30 collector_answers || fail "the collector does not answer on 127.0.0.1:$COLLECTOR_PORT/healthz"
pass "collector answers: $(curl -s "http://127.0.0.1:$COLLECTOR_PORT/healthz" | head -c 200)"
drained() { [ "$(status_field "uplink['backlog']")" = 0 ]; }
await 120 drained || fail "the backlog did not drain (backlog $(status_field "uplink['backlog']"))"
last_seq=$(status_field "last_seq"); last_ack=$(status_field "uplink['last_ack']")
[ "$last_ack" = "$last_seq" ] || fail "last ack $last_ack, last seq $last_seq"
pass "backlog 0: the collector acknowledged every event up to seq $last_ack"

# --- forward-only schema ----------------------------------------------------------------
step "a schema from a newer version is refused"
stop_station
python3 - "$ROOT/var/lib/yizhan/station.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute("INSERT INTO grdb_migrations(identifier) VALUES ('v99: from the future')"); db.commit()
PY
set +e
message=$(as_yizhan yizhan-station --config /etc/yizhan/station.toml 2>&1 >/dev/null)
code=$?
set -e
[ $code -ne 0 ] || fail "the station started on a newer schema"
echo "  yizhan-station said (exit $code): $message"
[[ $message == *"newer than this binary"* && $message == *"v99: from the future"* && $message == *"$V2"* ]] ||
    fail "the message does not name the schema versions and the binary's version"
python3 - "$ROOT/var/lib/yizhan/station.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute("DELETE FROM grdb_migrations WHERE identifier = 'v99: from the future'"); db.commit()
PY
pass "refused with a message naming both schema versions"

# --- remove and purge -------------------------------------------------------------------
step "remove keeps configuration and data; purge removes configuration, keeps data"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq yizhan-collector >/dev/null 2>&1 || fail "apt-get remove"
in_root test ! -e /usr/bin/yizhan-collector || fail "remove left the binary"
in_root test -f /etc/yizhan-collector/collector.toml || fail "remove deleted collector.toml"
in_root test -f /var/lib/yizhan-collector/collector.db || fail "remove deleted the collector's database"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq yizhan-station yizhan-collector \
    >"$ROOT/var/log/yizhan-test/purge.log" 2>&1 || { cat "$ROOT/var/log/yizhan-test/purge.log"; fail "apt-get purge"; }
in_root test ! -e /usr/bin/yizhan-station || fail "purge left the binary"
in_root test ! -e /etc/yizhan || fail "purge left /etc/yizhan"
in_root test ! -e /etc/yizhan-collector || fail "purge left /etc/yizhan-collector"
in_root test -f /var/lib/yizhan/station.db || fail "purge deleted the event log"
in_root test -f /var/lib/yizhan-collector/collector.db || fail "purge deleted the collector's database"
in_root getent passwd yizhan >/dev/null || fail "purge removed user yizhan"
pass "remove: binary gone, config and data kept; purge: /etc/yizhan and /etc/yizhan-collector gone, /var/lib data and users kept"
