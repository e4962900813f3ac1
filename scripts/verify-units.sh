#!/usr/bin/env bash
# verify-units.sh BIN_DIR [UNIT_FILE]
#
# Checks the Yizhan systemd/udev files without installing anything:
#   1. systemd-analyze verify on systemd/yizhan-station.service and
#      systemd/yizhan-collector.service (or only on UNIT_FILE), each with
#      ExecStart=/usr/local/bin/ rewritten to BIN_DIR/ because verify insists
#      that the binary exists. If the binary (BIN_DIR/yizhan-station,
#      BIN_DIR/yizhan-collector) is missing (not built yet) a dummy executable
#      stands in for it. A unit is checked under the name <binary>.service,
#      e.g. yizhan-collector.service for ExecStart=/usr/local/bin/yizhan-collector.
#      Any warning or error about a unit makes the script fail; messages
#      about other units on this machine are shown but ignored.
#   2. systemd-sysusers and systemd-tmpfiles on yizhan.sysusers.conf and
#      yizhan.tmpfiles.conf inside a throw-away --root directory (never the
#      real system). Needs root for the chown done by tmpfiles; skipped otherwise.
#   3. udevadm verify on config/udev/70-yizhan-readers.rules when this udevadm
#      has it (systemd >= 253); skipped otherwise.
#
# Exit status: 0 if everything checked is clean, 1 if something is wrong,
# 2 on usage errors.

set -euo pipefail

usage() {
    echo "usage: $0 BIN_DIR [UNIT_FILE]" >&2
    echo "  BIN_DIR    directory holding the built yizhan-station and yizhan-collector binaries" >&2
    echo "  UNIT_FILE  check only this unit (default: systemd/yizhan-station.service" >&2
    echo "             and systemd/yizhan-collector.service)" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
case "$1" in -h|--help) usage ;; esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -eq 2 ]]; then
    unit_srcs=("$2")
else
    unit_srcs=("$repo/systemd/yizhan-station.service" "$repo/systemd/yizhan-collector.service"
               "$repo/systemd/yizhan-kiosk.service")
fi
sysusers_src=$repo/systemd/yizhan.sysusers.conf
tmpfiles_src=$repo/systemd/yizhan.tmpfiles.conf
rules_src=$repo/config/udev/70-yizhan-readers.rules

for unit_src in "${unit_srcs[@]}"; do
    [[ -f $unit_src ]] || { echo "error: unit file not found: $unit_src" >&2; exit 2; }
done
command -v systemd-analyze >/dev/null || { echo "error: systemd-analyze not found" >&2; exit 2; }

# Absolute BIN_DIR; it may not exist yet.
bin_dir=$(realpath -m -- "$1")
if [[ $bin_dir =~ [[:space:]] ]]; then
    echo "error: BIN_DIR must not contain whitespace: $bin_dir" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-verify.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

failed=0

# ---------------------------------------------------------------------------
# 1. systemd-analyze verify
# ---------------------------------------------------------------------------
verify_args=()
# --recursive-errors=no (systemd >= 250): exit status reflects only our unit,
# not whatever units it references on this machine.
if systemd-analyze --help 2>/dev/null | grep -q -- '--recursive-errors'; then
    verify_args+=(--recursive-errors=no)
fi
unit_suffixes='service|socket|target|mount|automount|swap|timer|path|slice|scope|device'

verify_unit() {  # unit_src
    local unit_src=$1 exe unit_name exec_dir unit exec_dir_escaped line
    local verify_out verify_rc
    local -a ours=() noise=() unknown=()

    # The binary named by ExecStart=/usr/local/bin/<exe> [args] gives the unit
    # its name (<exe>.service) and the dummy executable its name.
    line=$(grep -m1 '^ExecStart=/usr/local/bin/' "$unit_src" || true)
    exe=${line#ExecStart=/usr/local/bin/}
    exe=${exe%%[[:space:]]*}
    # A unit that starts a Debian program (the kiosk: /usr/bin/cage) is verified as it is,
    # under its own name; that program must be installed (make deps does).
    if [[ -z $line ]] && grep -q '^ExecStart=/usr/bin/' "$unit_src"; then
        exe=$(basename "$unit_src" .service)
        line=keep
    fi
    if [[ -z $line ]]; then
        echo "FAIL: $unit_src has no 'ExecStart=/usr/local/bin/...' line to rewrite" >&2
        failed=1
        return
    fi
    if [[ ! $exe =~ ^[A-Za-z0-9_.@-]+$ ]]; then
        echo "FAIL: $unit_src: cannot tell the binary from '$line'" \
             "(expected ExecStart=/usr/local/bin/NAME [ARGS])" >&2
        failed=1
        return
    fi
    unit_name=$exe.service

    exec_dir=$bin_dir
    if [[ $line != keep && ! -x $bin_dir/$exe ]]; then
        exec_dir=$tmp/bin
        mkdir -p "$exec_dir"
        printf '#!/bin/sh\nexit 0\n' >"$exec_dir/$exe"
        chmod 0755 "$exec_dir/$exe"
        echo "note: $bin_dir/$exe does not exist (not built yet?);" \
             "verifying against a dummy executable instead"
    fi

    # The copy keeps the unit's own name: verify derives the unit name from it.
    # One directory per unit, so each verify run sees only that unit.
    mkdir -p "$tmp/unit/$exe"
    unit=$tmp/unit/$exe/$unit_name
    # '%' starts a specifier in unit files, so escape it in the path.
    exec_dir_escaped=${exec_dir//%/%%}
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line == ExecStart=/usr/local/bin/* ]]; then
            line="ExecStart=$exec_dir_escaped/${line#ExecStart=/usr/local/bin/}"
        fi
        printf '%s\n' "$line"
    done <"$unit_src" >"$unit"

    # Pin logging so the environment cannot hide warnings (journal target, high
    # log level) or decorate them (colour, source locations, timestamps).
    set +e
    verify_out=$(SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_COLOR=0 \
                 SYSTEMD_LOG_LOCATION=0 SYSTEMD_LOG_TIME=0 SYSTEMD_LOG_TID=0 \
                 SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 \
                 systemd-analyze verify "${verify_args[@]}" "$unit" 2>&1)
    verify_rc=$?
    set -e

    # Classify every line. Anything that names our unit (its temp path, the
    # source path or the unit name) is a finding. Lines that clearly concern other
    # units or the environment are noise. Lines matching neither also count as
    # findings: better a false alarm than a warning about our unit slipping through.
    while IFS= read -r line; do
        [[ -z ${line//[[:space:]]/} ]] && continue
        if [[ $line == *"$unit"* || $line == *"$unit_src"* || $line == *"$unit_name"* ]]; then
            ours+=("$line")
        # "/lib/systemd/system/foo.service:12: ..." or a drop-in of another unit.
        elif [[ $line =~ ^/[^:[:space:]]+\.($unit_suffixes)(\.d/[^:[:space:]]+\.conf)?:[0-9]+: ]]; then
            noise+=("$line")
        # "foo.service: ..." / "Unit foo.service ..." about another unit.
        elif [[ $line =~ ^(Unit\ )?[A-Za-z0-9@._\\:-]+\.($unit_suffixes)[:\ ] ]]; then
            noise+=("$line")
        # Containers / machines without a booted systemd or without a terminal.
        elif [[ $line =~ ^Failed\ to\ open\ /dev/tty || \
                $line =~ ^Failed\ to\ read\ \$container\ of\ PID\ 1 || \
                $line =~ ^System\ has\ not\ been\ booted\ with\ systemd ]]; then
            noise+=("$line")
        else
            unknown+=("$line")
        fi
    done <<<"$verify_out"

    echo "== systemd-analyze verify $unit_name (exit status $verify_rc)"
    if (( ${#noise[@]} )); then
        echo "ignored (not about $unit_name):"
        printf '  %s\n' "${noise[@]}" | awk '!seen[$0]++'
    fi
    if (( ${#ours[@]} || ${#unknown[@]} || verify_rc != 0 )); then
        failed=1
        echo "FAIL: systemd-analyze verify reported problems:" >&2
        (( ${#ours[@]} )) && printf '  %s\n' "${ours[@]}" >&2
        (( ${#unknown[@]} )) && printf '  (unclassified) %s\n' "${unknown[@]}" >&2
        (( verify_rc != 0 )) && echo "  systemd-analyze verify exited with status $verify_rc" >&2
        echo "full output:" >&2
        printf '%s\n' "$verify_out" | sed 's/^/  | /' >&2
    else
        echo "OK: $unit_src"
    fi
}

for unit_src in "${unit_srcs[@]}"; do
    verify_unit "$unit_src"
done

# ---------------------------------------------------------------------------
# 2. sysusers.d and tmpfiles.d, applied to a throw-away root
# ---------------------------------------------------------------------------
# Lines such as "Creating group 'yizhan' with GID 994." are progress output;
# anything else (e.g. "[file:3] Unknown modifier ...") is a finding.
check_output() {  # name rc output
    local name=$1 rc=$2 out=$3 bad
    bad=$(printf '%s\n' "$out" | grep -v -E "^(Creating (user|group) |Adding user |$)" || true)
    echo "== $name (exit status $rc)"
    if [[ $rc -ne 0 || -n $bad ]]; then
        failed=1
        echo "FAIL: $name reported problems:" >&2
        printf '%s\n' "$out" | sed 's/^/  | /' >&2
    else
        echo "OK"
    fi
}

if [[ $EUID -ne 0 ]]; then
    echo "note: not root; skipping systemd-sysusers/systemd-tmpfiles checks" \
         "(tmpfiles must chown inside the temporary root)"
elif ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
    echo "note: systemd-sysusers or systemd-tmpfiles not found; skipping those checks"
else
    root=$tmp/root
    mkdir -p "$root/etc"
    # Start from this machine's accounts so existing groups (dialout, input)
    # keep their IDs, as they would on a real install.
    cp /etc/passwd /etc/group "$root/etc/"
    set +e
    out=$(systemd-sysusers --root="$root" "$sysusers_src" 2>&1); rc=$?
    set -e
    check_output "systemd-sysusers --root=<tmp> yizhan.sysusers.conf" "$rc" "$out"

    set +e
    out=$(systemd-tmpfiles --root="$root" --create "$tmpfiles_src" 2>&1); rc=$?
    set -e
    check_output "systemd-tmpfiles --root=<tmp> --create yizhan.tmpfiles.conf" "$rc" "$out"
    if [[ -d $root/etc/yizhan ]]; then
        echo "   /etc/yizhan would be: $(stat -c '%a uid=%u gid=%g' "$root/etc/yizhan")" \
             "(yizhan gid in temp root: $(awk -F: '$1=="yizhan"{print $3}' "$root/etc/group"))"
    fi
fi

# ---------------------------------------------------------------------------
# 3. udev rules
# ---------------------------------------------------------------------------
if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
    set +e
    out=$(udevadm verify --resolve-names=never "$rules_src" 2>&1); rc=$?
    set -e
    echo "== udevadm verify 70-yizhan-readers.rules (exit status $rc)"
    if [[ $rc -ne 0 ]]; then
        failed=1
        echo "FAIL: udevadm verify reported problems:" >&2
        printf '%s\n' "$out" | sed 's/^/  | /' >&2
    else
        echo "OK"
    fi
else
    echo "note: 'udevadm verify' not available here (needs systemd >= 253); udev rules not checked"
fi

if (( failed )); then
    echo "verify-units: FAILED" >&2
    exit 1
fi
echo "verify-units: all checks passed"
