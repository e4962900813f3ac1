#!/usr/bin/env bash
# Lays out the Debian packages yizhan-station and yizhan-collector from release binaries
# and builds them with dpkg-deb (no debian/ source tree, no debhelper): what goes where is
# all in this file, the maintainer scripts and control templates in packaging/.
#
#   scripts/build-deb.sh BIN_DIR VERSION OUT_DIR [GENERATE_MANUAL]
#
# BIN_DIR holds yizhan-station, yizhanctl and yizhan-collector built with
# --static-swift-stdlib (`make deb` builds them); each must answer `--version` with VERSION,
# so the package version and what the heartbeat reports cannot drift apart.
# GENERATE_MANUAL is swift-argument-parser's generate-manual tool (man pages from the
# argument parsers); without it the build fails, since every executable needs its page.
# Writes OUT_DIR/yizhan-station_VERSION_ARCH.deb and OUT_DIR/yizhan-collector_VERSION_ARCH.deb.
set -euo pipefail

BIN_DIR=$(realpath "${1:?usage: build-deb.sh BIN_DIR VERSION OUT_DIR [GENERATE_MANUAL]}")
VERSION=${2:?version}
OUT_DIR=$(realpath -m "${3:?output folder}")
GENERATE_MANUAL=${4:-}
MAINTAINER=${MAINTAINER:-Yizhan maintainers <yizhan@localhost.invalid>}
# Reproducible output: file times and the manual pages' date come from the changelog.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKG=$ROOT/packaging

die() { echo "build-deb: $*" >&2; exit 1; }

[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "VERSION '$VERSION' is not a Debian version"
for exe in yizhan-station yizhanctl yizhan-collector; do
    [ -x "$BIN_DIR/$exe" ] || die "$BIN_DIR/$exe missing (make deb builds it)"
    got=$("$BIN_DIR/$exe" --version) || die "$exe --version failed"
    [ "$got" = "$VERSION" ] || die "$exe --version says '$got', the package would say '$VERSION' (build with YIZHAN_VERSION=$VERSION)"
done
[ -n "$GENERATE_MANUAL" ] && [ -x "$GENERATE_MANUAL" ] || die "generate-manual tool missing ('$GENERATE_MANUAL')"

# The Debian architecture of the binaries (not of this machine: a cross-built arm64
# binary makes an arm64 package).
case "$(readelf -h "$BIN_DIR/yizhan-station" | sed -n 's/^ *Machine: *//p')" in
    *X86-64*) ARCH=amd64 ;;
    *AArch64*) ARCH=arm64 ;;
    *) die "unknown machine in $BIN_DIR/yizhan-station" ;;
esac

# The changelog's newest entry names the version; a build of another version (a test
# upgrade, a snapshot) gets an entry of its own on top so the two always agree.
CHANGELOG=$(mktemp); trap 'rm -f "$CHANGELOG"' EXIT
top=$(sed -n '1s/^yizhan (\([^)]*\)).*/\1/p' "$PKG/changelog")
if [ "$top" != "$VERSION" ]; then
    {
        echo "yizhan ($VERSION) bookworm; urgency=medium"
        echo
        echo "  * Build of version $VERSION (no release notes yet)."
        echo
        echo " -- $MAINTAINER  $(date -R)"
        echo
        cat "$PKG/changelog"
    } > "$CHANGELOG"
else
    cp "$PKG/changelog" "$CHANGELOG"
fi
CHANGELOG_DATE=$(sed -n 's/^ -- .*>  //p' "$CHANGELOG" | head -1)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$CHANGELOG_DATE" +%s)}
MAN_DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
# Native version (no Debian revision) → changelog.gz, otherwise changelog.Debian.gz.
if [[ $VERSION == *-* ]]; then CHANGELOG_NAME=changelog.Debian.gz; else CHANGELOG_NAME=changelog.gz; fi

STAGE=$OUT_DIR/.stage
rm -rf "$STAGE"; mkdir -p "$STAGE" "$OUT_DIR"

# install_exe PKGROOT NAME: stripped executable, manual page, completions.
install_exe() {
    local root=$1 exe=$2 tmp
    install -D -m 0755 "$BIN_DIR/$exe" "$root/usr/bin/$exe"
    strip --remove-section=.comment --strip-unneeded "$root/usr/bin/$exe"
    tmp=$(mktemp -d)
    "$GENERATE_MANUAL" "$root/usr/bin/$exe" --date "$MAN_DATE" --section 1 \
        --authors "the Yizhan authors" --output-directory "$tmp" >/dev/null
    [ -s "$tmp/$exe.1" ] || die "generate-manual wrote no page for $exe"
    # An empty line in mdoc is a groff warning (the help texts have paragraphs): .Pp instead.
    sed -i 's/^$/.Pp/' "$tmp/$exe.1"
    install -D -m 0644 "$tmp/$exe.1" "$root/usr/share/man/man1/$exe.1"
    gzip -9n "$root/usr/share/man/man1/$exe.1"
    rm -rf "$tmp"
    install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
        "$root/usr/share/fish/vendor_completions.d"
    # bash-completion sources the file: no #! line.
    "$root/usr/bin/$exe" --generate-completion-script bash | sed '1{/^#!/d}' > "$root/usr/share/bash-completion/completions/$exe"
    "$root/usr/bin/$exe" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_$exe"
    "$root/usr/bin/$exe" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/$exe.fish"
    chmod 0644 "$root"/usr/share/*/*/"$exe" "$root/usr/share/zsh/vendor-completions/_$exe" \
        "$root/usr/share/fish/vendor_completions.d/$exe.fish" 2>/dev/null || true
}

# install_unit SRC DEST CONFIG DOC: the repository's unit with packaged paths, and a
# condition so the service never starts before the operator has written CONFIG.
install_unit() {
    local src=$1 dest=$2 config=$3 doc=$4
    install -d "$(dirname "$dest")"
    sed -e 's|/usr/local/bin/|/usr/bin/|g' \
        -e "s|^Documentation=.*|Documentation=man:$(basename "$src" .service)(1) file://$doc|" \
        "$src" > "$dest"
    if [ -n "$config" ]; then
        sed -i "0,/^\[Unit\]/s||[Unit]\n# Packaged: the example in /etc never runs; the service starts once the operator wrote this.\nConditionPathExists=$config|" "$dest"
    fi
    chmod 0644 "$dest"
}

install_docs() {
    local root=$1 name=$2; shift 2
    local doc=$root/usr/share/doc/$name
    install -d "$doc"
    install -m 0644 "$PKG/copyright" "$doc/copyright"
    gzip -9nc "$CHANGELOG" > "$doc/$CHANGELOG_NAME"
    for f in "$@"; do install -m 0644 "$ROOT/docs/$f" "$doc/$f"; done
}

# finish ROOT NAME CONFFILES...: shared-library dependencies, md5sums, control, .deb.
finish() {
    local root=$1 name=$2; shift 2
    local deps size shlib
    # dpkg-shlibdeps maps each NEEDED library to its Debian package and minimum version
    # (libc6, libsqlite3-0, libudev1, libstdc++6, zlib1g ...). A fully static binary
    # (Swift's static Linux SDK, musl) needs none.
    shlib=$(mktemp -d); mkdir -p "$shlib/debian"
    printf 'Source: yizhan\n\nPackage: %s\nArchitecture: any\n' "$name" > "$shlib/debian/control"
    if [ -n "$(readelf -d "$root"/usr/bin/* | grep NEEDED)" ]; then
        deps=$(cd "$shlib" && dpkg-shlibdeps -O "$root"/usr/bin/* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
        [ -n "$deps" ] || die "dpkg-shlibdeps found no dependencies for $name"
    else
        deps="libc6"  # unreachable for the dynamic glibc build; keeps the field well-formed
    fi
    rm -rf "$shlib"
    # Overrides, each with the reason beside it (packaging/*/lintian-overrides).
    if [ -f "$PKG/${name#yizhan-}/lintian-overrides" ]; then
        install -D -m 0644 "$PKG/${name#yizhan-}/lintian-overrides" "$root/usr/share/lintian/overrides/$name"
    fi
    install -d -m 0755 "$root/DEBIAN"
    for script in postinst prerm postrm; do
        [ -f "$PKG/${name#yizhan-}/$script" ] && install -m 0755 "$PKG/${name#yizhan-}/$script" "$root/DEBIAN/$script"
    done
    : > "$root/DEBIAN/conffiles"
    for c in "$@"; do echo "$c" >> "$root/DEBIAN/conffiles"; done
    chmod 0644 "$root/DEBIAN/conffiles"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') \
        > "$root/DEBIAN/md5sums"
    chmod 0644 "$root/DEBIAN/md5sums"
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
        -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$deps|" \
        "$PKG/${name#yizhan-}/control.in" > "$root/DEBIAN/control"
    find "$root" -depth -newermt "@$SOURCE_DATE_EPOCH" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT_DIR/${name}_${VERSION}_${ARCH}.deb" >/dev/null
    echo "$OUT_DIR/${name}_${VERSION}_${ARCH}.deb ($(du -k "$OUT_DIR/${name}_${VERSION}_${ARCH}.deb" | cut -f1) KiB)"
}

# --- yizhan-station ----------------------------------------------------------------
R=$STAGE/yizhan-station
install_exe "$R" yizhan-station
install_exe "$R" yizhanctl
install_unit "$ROOT/systemd/yizhan-station.service" "$R/lib/systemd/system/yizhan-station.service" \
    /etc/yizhan/station.toml /usr/share/doc/yizhan-station/install.md
# The kiosk screen ships disabled (it needs cage and chromium, which the package only suggests).
install_unit "$ROOT/systemd/yizhan-kiosk.service" "$R/lib/systemd/system/yizhan-kiosk.service" \
    "" /usr/share/doc/yizhan-station/kiosk.md
sed -i 's|^Documentation=man:yizhan-kiosk(1) |Documentation=|' "$R/lib/systemd/system/yizhan-kiosk.service"
install -D -m 0644 "$ROOT/systemd/yizhan.sysusers.conf" "$R/usr/lib/sysusers.d/yizhan.conf"
install -D -m 0644 "$ROOT/systemd/yizhan.tmpfiles.conf" "$R/usr/lib/tmpfiles.d/yizhan.conf"
install -D -m 0644 "$ROOT/config/udev/70-yizhan-readers.rules" "$R/lib/udev/rules.d/70-yizhan-readers.rules"
install -D -m 0644 "$ROOT/config/station.example.toml" "$R/etc/yizhan/station.example.toml"
install_docs "$R" yizhan-station install.md readers.md privacy.md uplink.md manager.md kiosk.md durability.md
finish "$R" yizhan-station /etc/yizhan/station.example.toml

# --- yizhan-collector --------------------------------------------------------------
R=$STAGE/yizhan-collector
install_exe "$R" yizhan-collector
install_unit "$ROOT/systemd/yizhan-collector.service" "$R/lib/systemd/system/yizhan-collector.service" \
    /etc/yizhan-collector/collector.toml /usr/share/doc/yizhan-collector/collector.md
install -D -m 0644 "$ROOT/config/collector.example.toml" "$R/etc/yizhan-collector/collector.example.toml"
install_docs "$R" yizhan-collector collector.md install.md fleet-rollout.md privacy.md openapi.json
finish "$R" yizhan-collector /etc/yizhan-collector/collector.example.toml

rm -rf "$STAGE"
