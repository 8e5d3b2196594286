# project_warnings: the warning set every target of ours compiles with.
add_library(project_warnings INTERFACE)
target_compile_options(project_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wsuggest-override -Wimplicit-fallthrough
    # GCC 12 reports false positives at the end of Asio coroutines (Boost 1.81).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
if(MB_WERROR)
    target_compile_options(project_warnings INTERFACE -Werror)
endif()

add_library(project_options INTERFACE)
if(MB_SANITIZE)
    target_compile_options(project_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(project_options INTERFACE -fsanitize=address,undefined)
endif()
