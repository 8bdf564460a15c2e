# Every dependency comes from a Debian 12 package (see scripts/bootstrap.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# keiretsud: sd_notify (Type=notify, WatchdogSec).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
# LEMON (liblemon-dev) ships a config file that sets variables, not a target.
# Its headers are marked SYSTEM so our warning flags do not apply to them.
find_package(lemon CONFIG REQUIRED)
add_library(keiretsu_lemon INTERFACE)
target_include_directories(keiretsu_lemon SYSTEM INTERFACE ${LEMON_INCLUDE_DIRS})
target_link_libraries(keiretsu_lemon INTERFACE ${LEMON_LIBRARIES})
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
if(KEIRETSU_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KEIRETSU_BUILD_BENCH)
  find_package(nlohmann_json CONFIG REQUIRED)  # the benchmark's JSON report
endif()
# Asio (standalone) and CLI11 are header-only.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(keiretsu_asio INTERFACE)
target_include_directories(keiretsu_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(keiretsu_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(keiretsu_asio INTERFACE Threads::Threads)
