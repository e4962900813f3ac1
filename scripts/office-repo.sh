#!/usr/bin/env bash
# The office's apt repository for Yizhan (reprepro, from Debian), with phased updates
# (docs/fleet-rollout.md):
#
#   office-repo.sh init  REPO [GPG_KEY_ID]   make REPO/conf (unsigned without a key: tests only)
#   office-repo.sh add   REPO DEB...          publish packages; a new version starts at 0 %
#   office-repo.sh phase REPO PACKAGE PERCENT let PERCENT of the installed boxes upgrade (100: all)
#   office-repo.sh show  REPO                 the versions and their phase
#
# APT (2.1.16 and later, Debian 12 has 2.6) reads Phased-Update-Percentage from the
# repository's Packages index: a box whose /etc/machine-id, hashed with the package and
# version, falls above the percentage holds the upgrade back. reprepro writes the field from
# an override file (DebOverride), which `phase` edits and re-applies with `reoverride`.
set -euo pipefail

CODENAME=bookworm
die() { echo "office-repo: $*" >&2; exit 2; }
cmd=${1:-}; repo=${2:-}
[ -n "$cmd" ] && [ -n "$repo" ] || die "usage: office-repo.sh init|add|phase|show REPO ..."
override=$repo/conf/override.$CODENAME

set_phase() {  # package percent
    local package=$1 percent=$2
    [[ $percent =~ ^[0-9]+$ ]] && [ "$percent" -le 100 ] || die "PERCENT must be 0..100"
    touch "$override"
    sed -i -e "/^$package Phased-Update-Percentage /d" -e "/^$package \\\$Delete Phased-Update-Percentage\$/d" "$override"
    if [ "$percent" = 100 ]; then
        # 100 % is no field at all: every box takes the version (reprepro's $Delete removes it).
        echo "$package \$Delete Phased-Update-Percentage" >> "$override"
    else
        echo "$package Phased-Update-Percentage $percent" >> "$override"
    fi
}

case $cmd in
init)
    key=${3:-}
    mkdir -p "$repo/conf"
    {
        echo "Origin: Yizhan office"
        echo "Label: Yizhan"
        echo "Codename: $CODENAME"
        echo "Architectures: amd64 arm64"
        echo "Components: main"
        echo "Description: Yizhan station and collector packages of the office"
        echo "DebOverride: override.$CODENAME"
        [ -n "$key" ] && echo "SignWith: $key"
    } > "$repo/conf/distributions"
    touch "$override"
    reprepro -b "$repo" export "$CODENAME"
    echo "office-repo: $repo ready; boxes use: deb [signed-by=/etc/apt/keyrings/yizhan.gpg] URL $CODENAME main"
    ;;
add)
    shift 2
    [ $# -gt 0 ] || die "add needs .deb files"
    for deb in "$@"; do
        package=$(dpkg-deb -f "$deb" Package); version=$(dpkg-deb -f "$deb" Version)
        current=$(reprepro -b "$repo" --list-format '${version}\n' -A "$(dpkg-deb -f "$deb" Architecture)" \
            list "$CODENAME" "$package" 2>/dev/null | head -1)
        # A new version reaches no installed box until `phase` says so (new installs get it).
        if [ "$current" != "$version" ]; then set_phase "$package" 0; fi
        reprepro -b "$repo" includedeb "$CODENAME" "$deb"
    done
    ;;
phase)
    package=${3:?package}; percent=${4:?percent}
    set_phase "$package" "$percent"
    reprepro -b "$repo" reoverride "$CODENAME"
    reprepro -b "$repo" export "$CODENAME"
    ;;
show)
    ;;
*) die "unknown command $cmd" ;;
esac

# What the boxes see: package, architecture, version, phase.
for packages in "$repo"/dists/$CODENAME/main/binary-*/Packages; do
    [ -f "$packages" ] || continue
    awk -v arch="$(basename "$(dirname "$packages")" | sed 's/binary-//')" '
        /^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Phased-Update-Percentage:/ { ph = $2 }
        /^$/ { if (p != "") printf "  %-18s %-6s %-16s %s\n", p, arch, v, (ph == "" ? "100 %" : ph " %"); p = ""; v = ""; ph = "" }
        END { if (p != "") printf "  %-18s %-6s %-16s %s\n", p, arch, v, (ph == "" ? "100 %" : ph " %") }' "$packages"
done
