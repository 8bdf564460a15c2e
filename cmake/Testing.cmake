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
  # The test's own code is compiled at -O1 in an optimised build: it runs
  # once per test run, and gtest-heavy files take a third longer to compile
  # at -O2. The code under test (the libraries) keeps the build's flags.
  # In the sanitizer build the test's code is compiled at -O0 (half the
  # compile time of -Og with UBSan: an api test takes 19 s instead of 27 s);
  # every check still applies to it, and the libraries keep -Og.
  # HEAVY_TEST_CODE marks a test whose own code does most of its run's work
  # (a reference model, thousands of generated histories): at -O0 under the
  # sanitizers it runs 3-5x longer (audit_test 56 s -> 149 s), so it keeps
  # the libraries' -Og there.
  target_compile_options(${T_NAME} PRIVATE $<$<CONFIG:Release,RelWithDebInfo>:-O1>)
  if(KEIRETSU_SANITIZE AND NOT T_HEAVY_TEST_CODE)
    target_compile_options(${T_NAME} PRIVATE -O0)
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
