# mb_unity(<target> [BATCH <n>]): compile the target's sources in batches of n per translation unit
# (CMake unity build). The test binaries and the emulator instantiate the same Beast, Asio and Boost.Test
# templates in many small files; merged, each batch compiles them once. Files that must stay alone (one
# Beast stream type per translation unit, see common/src/web/*_plain.cpp) are not given to this.
# MB_UNITY_BUILD=OFF builds every file on its own (quicker to rebuild one file while editing it).
option(MB_UNITY_BUILD "Merge the sources of test and emulator targets into batches (unity build)" ON)
function(mb_unity target)
    cmake_parse_arguments(U "" "BATCH" "" ${ARGN})
    if(NOT MB_UNITY_BUILD)
        return()
    endif()
    if(NOT U_BATCH)
        set(U_BATCH 8)
    endif()
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${U_BATCH})
    # GCC takes the merged .cpp files for headers and warns about their anonymous-namespace types, a
    # warning meant for headers included by many translation units; each file here is included once.
    target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
endfunction()
