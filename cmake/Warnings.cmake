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
# GCC 12's flow-sensitive buffer checks misfire on libstdc++'s inlined
# vector/string copies at -O3 (GCC bugs 105651, 106199, 107852): they report
# writes "into a region of size 0" for vector::insert of a span. They stay
# visible as warnings there, but do not fail the build; GCC 13 fixed them.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(keiretsu_warnings INTERFACE
    -Wno-error=stringop-overflow -Wno-error=array-bounds -Wno-error=restrict)
endif()
