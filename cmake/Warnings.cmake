# keiretsu_warnings: the warning set for our own code. Generated code (proto/)
# does not link it, so protoc output never breaks the build.
add_library(keiretsu_warnings INTERFACE)
target_compile_options(keiretsu_warnings INTERFACE
  -Wall -Wextra -Werror -Wnon-virtual-dtor -Woverloaded-virtual -Wshadow
  -Wold-style-cast -Wno-error=deprecated-declarations)
# GCC 12 reports -Wmaybe-uninitialized false positives inside libstdc++'s
# optional/variant at -O2 (GCC bug 105562 and friends); clang builds in CI
# still check uninitialised use through its own analysis and the sanitizers.
target_compile_options(keiretsu_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
