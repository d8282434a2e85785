# sie_warnings: applied to sie's own targets only, never to dependencies.
add_library(sie_warnings INTERFACE)
target_compile_options(sie_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # SIE_TRY is a GNU statement expression, deliberately (see include/sie/result.h).
  target_compile_options(sie_warnings INTERFACE -Wno-gnu-statement-expression)
endif()
