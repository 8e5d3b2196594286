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
# Every sanitizer stops at its first report (no recovery) and keeps frame pointers for readable stacks.
string(TOLOWER "${MB_SANITIZE}" mb_sanitize)
if(mb_sanitize STREQUAL "address" OR mb_sanitize STREQUAL "on")
    set(mb_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all)
elseif(mb_sanitize STREQUAL "thread")
    set(mb_sanitize_flags -fsanitize=thread)
elseif(NOT mb_sanitize STREQUAL "off" AND NOT mb_sanitize STREQUAL "")
    message(FATAL_ERROR "MB_SANITIZE must be OFF, address or thread, not '${MB_SANITIZE}'")
endif()
if(mb_sanitize_flags)
    target_compile_options(project_options INTERFACE ${mb_sanitize_flags} -fno-omit-frame-pointer)
    target_link_options(project_options INTERFACE ${mb_sanitize_flags})
endif()
