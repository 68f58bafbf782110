#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (python3.13t, PEP 703) for gillab's comparisons.
#
# usage: scripts/build-free-threaded-python.sh [--prefix DIR] [--tarball PATH]
#
# Source: Debian's python3.13 source package from the trixie suite, fetched from the Debian mirror that
# this machine's apt sources already name (read at run time; no host name is written here). The .dsc is
# checked against the suite's Sources index, and the upstream tarball against the SHA-256 the .dsc gives.
# --tarball PATH builds from a CPython source tarball you already have instead.
# Output: DIR (default: ${GILLAB_CACHE:-~/.cache/gillab}/python3.13t), DIR/bin/python3.13t.
# Idempotent: when DIR already holds a free-threaded python3.13t, it does nothing.
# Cost of a first run: about 3-4 minutes of build on 2 cores and 250 MB of disk.
set -euo pipefail

CACHE=${GILLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gillab}
PREFIX=$CACHE/python3.13t
TARBALL=
SUITE=trixie
PACKAGE=python3.13

die() { echo "build-free-threaded-python: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
    --tarball) [ $# -ge 2 ] || die "--tarball needs a path"; TARBALL=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

PY=$PREFIX/bin/python3.13t
if [ -x "$PY" ] && "$PY" -c 'import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var("Py_GIL_DISABLED") else 1)'; then
  echo "already built: $PY"
  exit 0
fi
if [ -n "$TARBALL" ] && [ ! -f "$TARBALL" ]; then die "no such tarball: $TARBALL"; fi

# Build dependencies for the modules gillab and pip need (ssl, zlib, ctypes, bz2, lzma).
missing=()
for pkg in build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev xz-utils curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing build dependencies: ${missing[*]}"
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
  echo "fetching the $SUITE $PACKAGE source index from the configured Debian mirror"
  curl -fsSL "$uri/dists/$SUITE/main/source/Sources.xz" | xz -dc > "$work/Sources"
  stanza=$(awk -v pkg="$PACKAGE" 'BEGIN {RS = ""} $0 ~ "^Package: " pkg "\n" {print; exit}' "$work/Sources")
  [ -n "$stanza" ] || die "$PACKAGE is not in $SUITE's source index"
  dir=$(echo "$stanza" | awk '/^Directory:/ {print $2}')
  read -r dsc_sha dsc_name < <(echo "$stanza" | awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && $3 ~ /\.dsc$/ {print $1, $3}')
  curl -fsSL -o "$work/$dsc_name" "$uri/$dir/$dsc_name"
  echo "$dsc_sha  $work/$dsc_name" | sha256sum -c --quiet - || die "checksum mismatch for $dsc_name"
  read -r orig_sha orig_name < <(awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && $3 ~ /\.orig\.tar\.[a-z]+$/ {print $1, $3}' "$work/$dsc_name")
  [ -n "$orig_name" ] || die "no upstream tarball named in $dsc_name"
  echo "fetching $orig_name"
  curl -fsSL -o "$work/$orig_name" "$uri/$dir/$orig_name"
  echo "$orig_sha  $work/$orig_name" | sha256sum -c --quiet - || die "checksum mismatch for $orig_name (the .dsc gives $orig_sha)"
  echo "verified $orig_name against the SHA-256 in $dsc_name"
  TARBALL=$work/$orig_name
fi

mkdir -p "$work/src"
tar -xf "$TARBALL" -C "$work/src" --strip-components=1
cd "$work/src"
[ -x configure ] || die "$TARBALL does not look like a CPython source tarball"
echo "configuring --disable-gil --prefix=$PREFIX"
./configure --disable-gil --prefix="$PREFIX" --with-ensurepip=install >"$work/configure.log" 2>&1 \
  || { tail -20 "$work/configure.log" >&2; die "configure failed"; }
echo "building on $(nproc) cores"
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; die "make failed"; }
make install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; die "make install failed"; }
"$PY" -c 'import sys, sysconfig; assert sysconfig.get_config_var("Py_GIL_DISABLED"); print(sys.version, "GIL enabled:", sys._is_gil_enabled())'
echo "built: $PY"
