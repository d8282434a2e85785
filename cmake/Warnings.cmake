# sie_warnings: applied to sie's own targets only, never to dependencies.
add_library(sie_warnings INTERFACE)
target_compile_options(sie_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wno-missing-field-initializers)
