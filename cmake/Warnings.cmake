# keiretsu_warnings: the warning set for our own code. Generated code (proto/)
# does not link it, so protoc output never breaks the build.
add_library(keiretsu_warnings INTERFACE)
target_compile_options(keiretsu_warnings INTERFACE
  -Wall -Wextra -Werror -Wnon-virtual-dtor -Woverloaded-virtual -Wshadow
  -Wold-style-cast -Wno-error=deprecated-declarations)
