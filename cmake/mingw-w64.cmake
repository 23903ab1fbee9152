# Toolchain for the Windows (x64) build with Debian's mingw-w64, and for the Windows builds of the
# dependencies made by scripts/windows/build-deps.sh. Usage:
#   cmake -S . -B build-win64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
# Tests run under Wine through CMAKE_CROSSCOMPILING_EMULATOR (see docs/windows-build.md).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The posix thread model: GCC 12's win32 flavour has no std::thread, std::mutex or
# std::condition_variable.
set(T0W_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${T0W_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${T0W_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${T0W_MINGW_TRIPLE}-windres)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

# One self-contained .exe: no libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll to ship
# beside the agent (and none to put on Wine's path for the tests).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# Windows builds of the libraries (pugixml, GoogleTest, nlohmann-json, yaml-cpp, ...), made from
# Debian source packages by scripts/windows/build-deps.sh. The toolchain file is read again for
# every try_compile, so the environment is the only place the value survives reliably.
if(DEFINED ENV{T0W_WIN64_PREFIX} AND NOT "$ENV{T0W_WIN64_PREFIX}" STREQUAL "")
  set(T0W_WIN64_PREFIX "$ENV{T0W_WIN64_PREFIX}")
else()
  set(T0W_WIN64_PREFIX /var/cache/tier0watch/win64-prefix)
endif()
set(CMAKE_FIND_ROOT_PATH ${T0W_WIN64_PREFIX} /usr/${T0W_MINGW_TRIPLE})
list(APPEND CMAKE_PREFIX_PATH ${T0W_WIN64_PREFIX})
# Programs (code generators, pkg-config, wine) are the build machine's; everything linked into
# the .exe comes from the Windows prefix, never from the Linux system.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg_check_modules (RE2, ...) must see only the Windows .pc files.
set(ENV{PKG_CONFIG_LIBDIR} "${T0W_WIN64_PREFIX}/lib/pkgconfig:${T0W_WIN64_PREFIX}/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# add_test(NAME x COMMAND x) on an executable target prepends this, so ctest runs the .exe
# under Wine. scripts/windows/test.sh sets WINEPREFIX and keeps a wineserver running.
# wine-test.sh fails a test whose process crashed: Wine's debugger ends it with exit code 0.
find_program(T0W_WINE NAMES wine wine64 PATHS /usr/lib/wine)
if(T0W_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../scripts/windows/wine-test.sh;${T0W_WINE}")
endif()
