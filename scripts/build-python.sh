#!/usr/bin/env bash
# Build a CPython for gillab's comparisons: 3.13 or 3.14, with the GIL or free-threaded (PEP 703/779).
#
# usage: scripts/build-python.sh [--version 3.13|3.14] [--free-threaded] [--tarball PATH] [--sha256 HEX]
#                                [--prefix DIR]
#
# Source:
#   --version 3.13 (the default) without --tarball: Debian's python3.13 source package from the trixie suite,
#     fetched from the Debian mirror that this machine's apt sources already name (read at run time; no host
#     name is written here). The .dsc is checked against the suite's Sources index, and the upstream tarball
#     against the SHA-256 the .dsc gives.
#   --tarball PATH: a CPython source tarball you already have (needed for 3.14). It is checked against
#     --sha256 HEX, or else against a SHA256SUMS file beside it; with neither, the build is refused.
# Output: DIR (default: ${GILLAB_CACHE:-~/.cache/gillab}/python3.14t, python3.14, python3.13t, ...), and the
#   interpreter's path, printed alone on the last line (DIR/bin/python3.14t, say).
# Idempotent: when DIR already holds that interpreter (version and build checked), it only prints its path.
# Cost of a first run on 2 cores: about 3 minutes and 250 MB of disk per build.
set -euo pipefail

CACHE=${GILLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gillab}
VERSION=3.13
FREE=0
TARBALL=
SHA=
PREFIX=
SUITE=trixie

die() { echo "build-python: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs 3.13 or 3.14"; VERSION=$2; shift 2 ;;
    --free-threaded) FREE=1; shift ;;
    --tarball) [ $# -ge 2 ] || die "--tarball needs a path"; TARBALL=$2; shift 2 ;;
    --sha256) [ $# -ge 2 ] || die "--sha256 needs a checksum"; SHA=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$VERSION" in 3.13|3.14) ;; *) die "--version must be 3.13 or 3.14, got '$VERSION'" ;; esac
SUFFIX=$([ "$FREE" = 1 ] && echo t || true)
NAME=python$VERSION$SUFFIX
PREFIX=${PREFIX:-$CACHE/$NAME}
PY=$PREFIX/bin/$NAME
CHECK="import sys, sysconfig; ok = sys.version_info[:2] == tuple(map(int, '$VERSION'.split('.'))) and bool(sysconfig.get_config_var('Py_GIL_DISABLED')) == bool($FREE); sys.exit(0 if ok else 1)"

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then
  echo "already built: $("$PY" -c 'import sys; print(sys.version.split()[0])')$SUFFIX" >&2
  echo "$PY"
  exit 0
fi
if [ -n "$TARBALL" ] && [ ! -f "$TARBALL" ]; then die "no such tarball: $TARBALL"; fi
if [ -z "$TARBALL" ] && [ "$VERSION" != 3.13 ]; then
  die "CPython $VERSION needs --tarball PATH (only Debian trixie's 3.13 source is fetched here)"
fi

# Build dependencies for the modules gillab and pip need (ssl, zlib, ctypes, bz2, lzma).
missing=()
for pkg in build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev xz-utils curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing build dependencies: ${missing[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing build dependencies: ${missing[*]} (install them, then run again)"
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mirror_uri() {
  # The first Debian archive URI in the apt sources (deb822 .sources files, then one-line .list files).
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" || $1 == "deb-src" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {if ($i !~ /security/) {print $i; exit}}}' "$f")
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
}

if [ -z "$TARBALL" ]; then
  uri=$(mirror_uri)
  [ -n "$uri" ] || die "no Debian mirror found in the apt sources; use --tarball PATH"
  echo "fetching the $SUITE python$VERSION source index from the configured Debian mirror" >&2
  curl -fsSL "$uri/dists/$SUITE/main/source/Sources.xz" | xz -dc > "$work/Sources"
  stanza=$(awk -v pkg="python$VERSION" 'BEGIN {RS = ""} $0 ~ "^Package: " pkg "\n" {print; exit}' "$work/Sources")
  [ -n "$stanza" ] || die "python$VERSION is not in $SUITE's source index"
  dir=$(echo "$stanza" | awk '/^Directory:/ {print $2}')
  read -r dsc_sha dsc_name < <(echo "$stanza" | awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && $3 ~ /\.dsc$/ {print $1, $3}')
  curl -fsSL -o "$work/$dsc_name" "$uri/$dir/$dsc_name"
  echo "$dsc_sha  $work/$dsc_name" | sha256sum -c --quiet - >&2 || die "checksum mismatch for $dsc_name"
  read -r orig_sha orig_name < <(awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && $3 ~ /\.orig\.tar\.[a-z]+$/ {print $1, $3}' "$work/$dsc_name")
  [ -n "$orig_name" ] || die "no upstream tarball named in $dsc_name"
  echo "fetching $orig_name" >&2
  curl -fsSL -o "$work/$orig_name" "$uri/$dir/$orig_name"
  SHA=$orig_sha
  TARBALL=$work/$orig_name
elif [ -z "$SHA" ]; then
  sums=$(dirname "$TARBALL")/SHA256SUMS
  [ -f "$sums" ] || die "no --sha256 given and no SHA256SUMS beside $TARBALL: refusing an unchecked source"
  SHA=$(awk -v n="$(basename "$TARBALL")" '$2 == n || $2 == "*" n {print $1; exit}' "$sums")
  [ -n "$SHA" ] || die "$sums names no checksum for $(basename "$TARBALL")"
fi
echo "$SHA  $TARBALL" | sha256sum -c --quiet - >&2 || die "checksum mismatch for $TARBALL (expected $SHA)"
echo "verified $(basename "$TARBALL") against SHA-256 $SHA" >&2

mkdir -p "$work/src"
tar -xf "$TARBALL" -C "$work/src" --strip-components=1
cd "$work/src"
[ -x configure ] || die "$TARBALL does not look like a CPython source tarball"
got=$(awk -F'"' '/^#define PY_VERSION /{print $2}' Include/patchlevel.h)
case "$got" in "$VERSION".*) ;; *) die "$TARBALL holds CPython $got, not $VERSION" ;; esac
flags=(--prefix="$PREFIX" --with-ensurepip=install)
[ "$FREE" = 1 ] && flags+=(--disable-gil)
echo "configuring CPython $got ${flags[*]}" >&2
./configure "${flags[@]}" >"$work/configure.log" 2>&1 || { tail -20 "$work/configure.log" >&2; die "configure failed"; }
echo "building on $(nproc) cores" >&2
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; die "make failed"; }
make install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; die "make install failed"; }
[ -x "$PY" ] || die "make install gave no $PY"
"$PY" -c "$CHECK" || die "$PY is not the $VERSION$SUFFIX build asked for"
"$PY" -c 'import sys; print("built:", sys.version.split()[0], "GIL enabled:", getattr(sys, "_is_gil_enabled", lambda: True)())' >&2
echo "$PY"
