#!/usr/bin/env bash
# shellcheck disable=SC2034  # REV_<pkg> are read indirectly
# Builds Windows (x64, mingw-w64 posix, static) versions of the libraries the Windows build needs,
# from Debian 12 source packages, into a cached prefix. A package is rebuilt only when the version
# a fresh machine would build, the mingw compiler or its recipe below changes (stamp files in
# $PREFIX/.stamps hold the version actually built).
#
# Sources: each package's versions that `apt-cache showsrc` lists are tried newest first; one the
# archive lists but does not serve (a 404) is skipped with the reason, and the next is used.
#
#   build-deps.sh                  build what is missing or out of date
#   build-deps.sh --check-sources  download each package's chosen .dsc (one small request each)
#                                  and fail, naming the package, when none of its versions can
#                                  be fetched; builds nothing, needs no compiler (CI runs it every
#                                  time, so an archive change fails on the day it happens)
#
#   T0W_WIN64_PREFIX   install prefix (default /var/cache/tier0watch/win64-prefix)
#   T0W_WIN64_WORK     sources and build trees (default: win64-src beside the prefix)
#   T0W_WIN64_DEPS     space-separated subset to build (default: all, in dependency order)
#   T0W_APT_HELPER     apt's downloader for the probes (default /usr/lib/apt/apt-helper)
#
# Needs scripts/windows/install-deps.sh first (mingw-w64, dpkg-dev, tcl, unicode-data, deb-src,
# libboost1.74-dev).
set -euo pipefail
shopt -s inherit_errexit
MODE=build
case "${1:-}" in
  "") ;;
  --check-sources) MODE=check ;;
  *) echo "usage: build-deps.sh [--check-sources]" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=${T0W_WIN64_PREFIX:-/var/cache/tier0watch/win64-prefix}
WORK=${T0W_WIN64_WORK:-$(dirname "$PREFIX")/win64-src}
DEPS=${T0W_WIN64_DEPS:-pugixml googletest nlohmann-json3 yaml-cpp sqlite3 re2 fmtlib spdlog cli11 zlib libzstd boost-headers}
APT_HELPER=${T0W_APT_HELPER:-/usr/lib/apt/apt-helper}
TOOLCHAIN=$ROOT/cmake/mingw-w64.cmake
JOBS=${JOBS:-$(nproc)}
TRIPLE=x86_64-w64-mingw32
export T0W_WIN64_PREFIX=$PREFIX
STAMPS=$PREFIX/.stamps
if [ "$MODE" = check ]; then
  WORK=$(mktemp -d /tmp/t0w-check-sources.XXXXXX)  # probes only; the prefix is not touched
  trap 'rm -rf "$WORK"' EXIT
else
  mkdir -p "$PREFIX" "$WORK" "$STAMPS"
fi

log() { printf '[build-deps %(%H:%M:%S)T] %s\n' -1 "$*"; }

# Every source version of $1 that the package index lists, newest first by Debian's ordering
# (epochs included: `apt-get source pkg=EPOCH:VERSION` takes them as listed). An archive can list
# a version it does not serve (seen: zlib's security update, 404 on a mirror), so callers try them
# in this order.
srcVersions() {
  local pkg=$1 v i sorted=()
  while IFS= read -r v; do
    i=${#sorted[@]}
    while ((i > 0)) && dpkg --compare-versions "${sorted[i - 1]}" lt "$v"; do
      sorted[i]=${sorted[i - 1]}
      i=$((i - 1))
    done
    sorted[i]=$v
  done < <(apt-cache showsrc "$pkg" 2>/dev/null |
    awk -v p="$pkg" '/^Package: / { cur = $2 } /^Version: / && cur == p { print $2 }' | sort -u)
  ((${#sorted[@]} == 0)) || printf '%s\n' "${sorted[@]}"
}

# apt's reason in the log file $1, for "why" messages: the failed fetch (it names the URL and
# the HTTP status) or else the last error line.
aptError() {
  local why
  why=$(grep -a -m1 -E '^E: Failed to fetch' "$1" || true)
  [ -n "$why" ] || why=$(grep -a -m1 -E 'Not Found|Unable to' "$1" || true)
  [ -n "$why" ] || why=$(grep -a -E '^E:' "$1" | tail -n 1 || true)
  [ -n "$why" ] || why=$(tail -n 1 "$1")
  tr -s ' \n' ' ' <<<"$why" | sed 's/ $//'
}

# `apt-get source --print-uris` lines of the .dsc files of "pkg=version" arguments, cached in
# $URIS (each call costs seconds of index reading, so --check-sources asks once for all).
URIS=$WORK/.dsc-uris
printDscUris() {
  apt-get source --print-uris -qq "$@" 2>/dev/null | awk '$2 ~ /\.dsc$/' >>"$URIS" || true
}

# Downloads the .dsc of $1 version $2 (hash checked against the index) into a scratch folder and
# deletes it: proof that the archive serves that version now, at the cost of one small request.
# On failure prints apt's reason.
probeSource() {
  local pkg=$1 ver=$2 name line uri hash dir rc=0
  name=${pkg}_${ver#*:}.dsc
  line=$(awk -v n="$name" '$2 == n { print; exit }' "$URIS" 2>/dev/null) || true
  if [ -z "$line" ]; then
    printDscUris "$pkg=$ver"
    line=$(awk -v n="$name" '$2 == n { print; exit }' "$URIS") || true
  fi
  if [ -z "$line" ]; then
    echo "apt-get source --print-uris gives no $name"
    return 1
  fi
  read -r uri _ _ hash <<<"$line"
  uri=${uri//\'/}
  dir=$(mktemp -d "$WORK/probe-$pkg.XXXXXX")
  chmod 755 "$dir"  # apt downloads as its sandbox user
  "$APT_HELPER" download-file "$uri" "$dir/$name" "$hash" >"$dir/log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || aptError "$dir/log"
  rm -rf "$dir"
  return "$rc"
}

# Unpacks $1 version $2 (with Debian's patches applied) into $WORK/<pkg>-<version>; prints that
# directory. On failure prints apt's reason and leaves nothing behind.
fetch() {
  local pkg=$1 ver=$2 dest="$WORK/$1-${2//:/_}" log="$WORK/$1-source.log"
  if [ ! -f "$dest/.unpacked" ]; then
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    if ! (cd "$dest.tmp" && apt-get source -qq "$pkg=$ver" >"$log" 2>&1); then
      aptError "$log"
      rm -rf "$dest.tmp"
      return 1
    fi
    local tree
    tree=$(find "$dest.tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
    mv "$tree" "$dest"
    rm -rf "$dest.tmp"
    touch "$dest/.unpacked"
  fi
  echo "$dest"
}

cmakeBuild() {
  local name=$1 src=$2
  shift 2
  local build="$WORK/build-$name"
  rm -rf "$build"
  cmake -S "$src" -B "$build" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DBUILD_SHARED_LIBS=OFF "$@" >"$build.log" 2>&1 ||
    { tail -n 40 "$build.log"; return 1; }
  cmake --build "$build" -j "$JOBS" >>"$build.log" 2>&1 || { tail -n 60 "$build.log"; return 1; }
  cmake --install "$build" >>"$build.log" 2>&1 || { tail -n 40 "$build.log"; return 1; }
  rm -rf "$build"
}

# Recipes. Bump a recipe's REV_<pkg> when its steps change so cached builds are redone (read
# through ${!rev_var} below).
REV_pugixml=1
build_pugixml() {
  cmakeBuild pugixml "$1" -DPUGIXML_BUILD_TESTS=OFF
}

REV_googletest=1
build_googletest() {
  cmakeBuild googletest "$1" -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON
}

REV_nlohmann_json3=1
build_nlohmann_json3() {
  # Header-only: configure + install just copies headers and the CMake package files.
  cmakeBuild nlohmann-json3 "$1" -DJSON_BuildTests=OFF -DJSON_Install=ON
}

REV_yaml_cpp=1
build_yaml_cpp() {
  cmakeBuild yaml-cpp "$1" -DYAML_CPP_BUILD_TESTS=OFF -DYAML_CPP_BUILD_TOOLS=OFF \
    -DYAML_CPP_BUILD_CONTRIB=ON -DYAML_BUILD_SHARED_LIBS=OFF
}

REV_sqlite3=1
build_sqlite3() {
  local src=$1 ver
  # The Debian tarball is the full source tree; the amalgamation is generated by tclsh on the
  # build machine, then compiled once with the cross compiler.
  (cd "$src" && { [ -f Makefile ] || ./configure --disable-tcl >"$WORK/sqlite3-configure.log" 2>&1; } &&
    make -j "$JOBS" sqlite3.c >"$WORK/sqlite3-make.log" 2>&1) ||
    { tail -n 40 "$WORK"/sqlite3-*.log; return 1; }
  local obj="$WORK/sqlite3-obj"
  rm -rf "$obj" && mkdir -p "$obj"
  "$TRIPLE-gcc-posix" -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE \
    -c "$src/sqlite3.c" -o "$obj/sqlite3.o"
  mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
  rm -f "$PREFIX/lib/libsqlite3.a"
  "$TRIPLE-ar" rcs "$PREFIX/lib/libsqlite3.a" "$obj/sqlite3.o"
  cp "$src/sqlite3.h" "$src/sqlite3ext.h" "$PREFIX/include/"
  ver=$(cat "$src/VERSION")
  cat >"$PREFIX/lib/pkgconfig/sqlite3.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: SQLite
Description: SQL database engine (Windows static build)
Version: $ver
Libs: -L\${libdir} -lsqlite3
Cflags: -I\${includedir}
PC
  rm -rf "$obj"
}

REV_re2=2
build_re2() {
  local src=$1
  # Debian's tarball drops the generated tables; its patch points unicode.py at unicode-data.
  (cd "$src" && perl re2/make_perl_groups.pl >re2/perl_groups.cc &&
    python3 re2/make_unicode_casefold.py >re2/unicode_casefold.cc &&
    python3 re2/make_unicode_groups.py >re2/unicode_groups.cc)
  cmakeBuild re2 "$src" -DRE2_BUILD_TESTING=OFF
  # The project finds RE2 through pkg-config (PkgConfig::RE2); RE2's CMake install has no .pc.
  mkdir -p "$PREFIX/lib/pkgconfig"
  cat >"$PREFIX/lib/pkgconfig/re2.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: re2
Description: RE2 is a fast, safe, thread-friendly regular expression engine (Windows static build)
Version: ${2%%[-+]*}
Libs: -L\${libdir} -lre2
Cflags: -I\${includedir}
PC
}

REV_fmtlib=1
build_fmtlib() {
  cmakeBuild fmtlib "$1" -DFMT_TEST=OFF -DFMT_DOC=OFF -DFMT_INSTALL=ON
}

REV_spdlog=1
build_spdlog() {
  # Debian's spdlog tarball has no bundled fmt: use the fmt built above, as Debian does.
  cmakeBuild spdlog "$1" -DSPDLOG_FMT_EXTERNAL=ON -DSPDLOG_BUILD_EXAMPLE=OFF \
    -DSPDLOG_BUILD_TESTS=OFF -DSPDLOG_BUILD_BENCH=OFF -DSPDLOG_INSTALL=ON
}

REV_cli11=1
build_cli11() {
  # Header-only: configure + install copies CLI/*.hpp and CLI11Config.cmake.
  cmakeBuild cli11 "$1" -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF -DCLI11_BUILD_DOCS=OFF \
    -DCLI11_PRECOMPILED=OFF -DCLI11_INSTALL=ON
}

REV_zlib=1
build_zlib() {
  local src=$1 obj="$WORK/zlib-obj" f
  # Debian's dfsg tarball has no win32/Makefile.gcc, and zlib's CMake build names its static
  # library libzlibstatic.a beside a DLL import library that FindZLIB would pick: compile the
  # library's sources into the plain static libz.a that FindZLIB looks for.
  rm -rf "$obj" && mkdir -p "$obj"
  for f in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate \
    inftrees trees uncompr zutil; do
    "$TRIPLE-gcc-posix" -O2 -Wall -c "$src/$f.c" -o "$obj/$f.o"
  done
  rm -f "$src/libz.a"
  "$TRIPLE-ar" rcs "$src/libz.a" "$obj"/*.o
  rm -rf "$obj"
  mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
  cp "$src/libz.a" "$PREFIX/lib/"
  cp "$src/zlib.h" "$src/zconf.h" "$PREFIX/include/"
  cat >"$PREFIX/lib/pkgconfig/zlib.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: zlib
Description: zlib compression library (Windows static build)
Version: ${2%%[-+.]dfsg*}
Libs: -L\${libdir} -lz
Cflags: -I\${includedir}
PC
}

REV_libzstd=1
build_libzstd() {
  # Static, single-threaded, no legacy formats: the agent makes and reads only its own frames.
  cmakeBuild libzstd "$1/build/cmake" -DZSTD_BUILD_PROGRAMS=OFF -DZSTD_BUILD_SHARED=OFF \
    -DZSTD_BUILD_STATIC=ON -DZSTD_BUILD_TESTS=OFF -DZSTD_LEGACY_SUPPORT=OFF \
    -DZSTD_MULTITHREAD_SUPPORT=OFF
}

# Boost: only header-only parts are used on Windows (Asio, Beast, System since 1.69). Boost
# headers are platform-neutral (the platform is chosen by the preprocessor), so instead of
# unpacking the 61 MB boost1.74 source tarball, the prefix links to the header tree of the build
# machine's libboost1.74-dev: the same Debian source version with its patches applied. The stamp
# carries that package's version, so an upgrade relinks. Libraries with compiled parts
# (filesystem, program_options, ...) are not available on Windows.
BOOST_DEV_PACKAGE=libboost1.74-dev
REV_boost_headers=1
LOCAL_boost_headers=1
version_boost_headers() {
  dpkg-query -W -f='${Version}' "$BOOST_DEV_PACKAGE" 2>/dev/null
}
build_boost_headers() {
  [ -f /usr/include/boost/version.hpp ] || { echo "build-deps: $BOOST_DEV_PACKAGE is not installed" >&2; return 1; }
  mkdir -p "$PREFIX/include"
  rm -rf "$PREFIX/include/boost"
  ln -s /usr/include/boost "$PREFIX/include/boost"
}

# Runs `$1 PKG VERSION` (probeSource or fetch) for the versions $3... in order until one
# succeeds, logging each failure with its output (apt's reason). Sets FIRST_VERSION (empty when
# none succeeded) and FIRST_OUTPUT.
firstDownloadable() {
  local step=$1 pkg=$2 v out
  shift 2
  FIRST_VERSION="" FIRST_OUTPUT=""
  for v in "$@"; do
    [ "$step" != fetch ] || log "$pkg $v: fetching"
    if out=$("$step" "$pkg" "$v"); then
      FIRST_VERSION=$v FIRST_OUTPUT=$out
      return 0
    fi
    log "$pkg $v: cannot be downloaded: $out"
  done
  return 1
}

# The stamp of a package holds "<version built>|mingw <compiler>|recipe <rev>".
stampVersion() { [ -f "$STAMPS/$1" ] && cut -d'|' -f1 "$STAMPS/$1"; }

# --check-sources: every package this script would fetch has a source version the archive serves
# now (newest first, as a build would choose). Fails naming each package that has none.
checkSources() {
  local pkg fn local_var versions v chosen failed=() all=()
  for pkg in $DEPS; do
    while IFS= read -r v; do all+=("$pkg=$v"); done < <(srcVersions "$pkg")
  done
  ((${#all[@]} == 0)) || printDscUris "${all[@]}"
  for pkg in $DEPS; do
    fn=${pkg//-/_}
    local_var="LOCAL_$fn"
    if [ -n "${!local_var:-}" ]; then
      log "$pkg: taken from the build machine ($BOOST_DEV_PACKAGE), nothing to download"
      continue
    fi
    mapfile -t versions < <(srcVersions "$pkg")
    if ((${#versions[@]} == 0)); then
      failed+=("$pkg: the package index lists no source version (deb-src entry? apt-get update?)")
      continue
    fi
    firstDownloadable probeSource "$pkg" "${versions[@]}" || true
    chosen=$FIRST_VERSION
    if [ -z "$chosen" ]; then
      failed+=("$pkg: none of its source versions can be downloaded (${versions[*]})")
    elif [ "$chosen" != "${versions[0]}" ]; then
      log "$pkg $chosen: downloadable (a build uses it: the newer ${versions[0]} is not)"
    else
      log "$pkg $chosen: downloadable"
    fi
  done
  if ((${#failed[@]} > 0)); then
    printf 'build-deps: a Windows dependency cannot be fetched from the archive now:\n' >&2
    printf '  %s\n' "${failed[@]}" >&2
    return 1
  fi
  log "all sources downloadable ($((SECONDS - total_start)) s)"
}

# Whether the cached build of $1 (version $2, listed among $3...) is still what a fresh machine
# would build: no newer listed version, or none of the newer ones can be downloaded.
cacheCurrent() {
  local pkg=$1 have=$2 v why
  shift 2
  for v in "$@"; do
    [ "$v" != "$have" ] || return 0
    if why=$(probeSource "$pkg" "$v"); then
      log "$pkg: newer source $v is available (cached build: $have)"
      return 1
    fi
    log "$pkg: newer source $v cannot be downloaded ($why): keeping the cached $have"
  done
  return 1  # the cached version is no longer listed
}

total_start=$SECONDS
if [ "$MODE" = check ]; then
  checkSources
  exit
fi

exec 9>"$PREFIX/.lock"  # two runs (CI, a developer) must not build into the prefix at once
flock 9
COMPILER_VERSION=$(dpkg-query -W -f='${Version}' g++-mingw-w64-x86-64-posix)
for pkg in $DEPS; do
  fn=${pkg//-/_}
  local_var="LOCAL_$fn"
  rev_var="REV_$fn"
  suffix="|mingw $COMPILER_VERSION|recipe ${!rev_var}"
  start=$SECONDS
  if [ -n "${!local_var:-}" ]; then
    ver=$("version_$fn")
    [ -n "$ver" ] || { echo "build-deps: no version for '$pkg' (package installed?)" >&2; exit 1; }
    if [ -f "$STAMPS/$pkg" ] && [ "$(cat "$STAMPS/$pkg")" = "$ver$suffix" ]; then
      log "$pkg $ver: cached"
      continue
    fi
    log "$pkg $ver: installing from the build machine"
    "build_$fn" "" "$ver"
    echo "$ver$suffix" >"$STAMPS/$pkg"
    log "$pkg $ver: done in $((SECONDS - start)) s"
    continue
  fi

  mapfile -t versions < <(srcVersions "$pkg")
  ((${#versions[@]} > 0)) ||
    { echo "build-deps: apt-cache showsrc lists no source of '$pkg' (deb-src entry? apt-get update?)" >&2; exit 1; }
  have=$(stampVersion "$pkg" || true)
  if [ -n "$have" ] && [ "$(cat "$STAMPS/$pkg")" = "$have$suffix" ] && cacheCurrent "$pkg" "$have" "${versions[@]}"; then
    log "$pkg $have: cached"
    continue
  fi
  # Newest first; a version the archive lists but does not serve is skipped, and said so.
  firstDownloadable fetch "$pkg" "${versions[@]}" || true
  ver=$FIRST_VERSION src=$FIRST_OUTPUT
  if [ -z "$ver" ]; then
    echo "build-deps: no source version of '$pkg' can be downloaded (tried ${versions[*]})" >&2
    exit 1
  fi
  [ "$ver" = "${versions[0]}" ] ||
    log "$pkg $ver: using this older version, the newest downloadable (${versions[0]} is listed but not served)"
  log "$pkg $ver: building"
  "build_$fn" "$src" "${ver#*:}"  # recipes write the upstream part into .pc files
  echo "$ver$suffix" >"$STAMPS/$pkg"
  # Only the installed result is cached; sources are fetched again if a rebuild is ever needed.
  rm -rf "$src" "$WORK/$pkg"-*.log "$WORK/$pkg"_*
  log "$pkg $ver: done in $((SECONDS - start)) s"
done
log "all dependencies ready in $PREFIX ($((SECONDS - total_start)) s)"
