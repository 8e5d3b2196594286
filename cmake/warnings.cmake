# project_warnings: the warning set every target of ours compiles with.
add_library(project_warnings INTERFACE)
target_compile_options(project_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wsuggest-override -Wimplicit-fallthrough)
if(MB_WERROR)
    target_compile_options(project_warnings INTERFACE -Werror)
endif()

add_library(project_options INTERFACE)
if(MB_SANITIZE)
    target_compile_options(project_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(project_options INTERFACE -fsanitize=address,undefined)
endif()
