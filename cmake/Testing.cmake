# keiretsu_test(NAME name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s] [COST s]
#               [HEAVY_TEST_CODE])
# One GoogleTest executable registered with ctest as one test (gtest runs
# its cases inside; ctest -V shows them). Labels let CI pick subsets. COST,
# about the seconds a test takes, makes ctest -j start the long tests first
# on a fresh build tree, which has no timing data of earlier runs (CI's
# clean clone): otherwise a long test started last holds up the end.
function(keiretsu_test)
  cmake_parse_arguments(T "HEAVY_TEST_CODE" "NAME;TIMEOUT;COST" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} keiretsu_test_support GTest::gtest
                                          GTest::gtest_main keiretsu_warnings)
  # A test's own code is compiled at -Og, both in an optimised build and
  # under the sanitizers: it runs once per test run, and -Og takes a third
  # less compile time than -O1 (tests/net/handshake_test.cc and
  # tests/node/ledger_test.cc: 20.7 s at -O1, 13.7 s at -Og). The code under
  # test (the libraries) keeps the build's flags. In the sanitizer build the
  # test's code is compiled at -O0 (half the compile time of -Og with UBSan:
  # an api test takes 19 s instead of 27 s); every check still applies.
  # HEAVY_TEST_CODE marks a test whose own code does most of its run's work
  # (a reference model, thousands of generated histories): it keeps -O1 in
  # an optimised build and -Og under the sanitizers, where at -O0 it ran
  # 3-5x longer (audit_test 56 s -> 149 s).
  if(T_HEAVY_TEST_CODE)
    target_compile_options(${T_NAME} PRIVATE $<$<CONFIG:Release,RelWithDebInfo>:-O1>)
  else()
    target_compile_options(${T_NAME} PRIVATE $<$<CONFIG:Release,RelWithDebInfo>:-Og>)
    if(KEIRETSU_SANITIZE)
      target_compile_options(${T_NAME} PRIVATE -O0)
    endif()
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --gtest_color=no)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
  if(T_COST)
    set_tests_properties(${T_NAME} PROPERTIES COST ${T_COST})
  endif()
endfunction()
