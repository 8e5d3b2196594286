# MB_FUZZ: the libFuzzer targets of tests/fuzz and nothing else (scripts/fuzz.sh configures build-fuzz
# with CC=clang-14 CXX=clang++-14). Each target calls the product's own code: the few sources it needs are
# compiled here with -fsanitize=fuzzer-no-link,address,undefined (coverage and checks, no main), into one
# library, and each target links it with -fsanitize=fuzzer,address,undefined (libFuzzer's main). None of
# the services' servers, database or Redis connections are built.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MB_FUZZ needs clang: configure with CC=clang-14 CXX=clang++-14 (scripts/fuzz.sh does)")
endif()
set(MB_FUZZ_CHECKS address,undefined)
# -fsanitize=function is left out: with coverage instrumentation, clang 14 cannot emit its prologue in
# coroutines ("Cannot represent a difference across sections"); the other UBSan checks stay.
set(src ${PROJECT_SOURCE_DIR})

# Asio and Beast compiled once, as in common/CMakeLists.txt.
add_library(fuzz_boost STATIC ${src}/common/src/boost_src.cpp)
target_compile_definitions(fuzz_boost PUBLIC
    BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED)
target_include_directories(fuzz_boost PUBLIC ${src}/common/include)
target_compile_options(fuzz_boost PUBLIC -fno-omit-frame-pointer -fno-sanitize-recover=all -fno-sanitize=function
    PRIVATE -fsanitize=fuzzer-no-link,${MB_FUZZ_CHECKS})
target_link_libraries(fuzz_boost PUBLIC Boost::headers Boost::json Boost::url OpenSSL::SSL OpenSSL::Crypto
    Threads::Threads)

# The product's sources the targets reach (see each fuzz_*.cpp), unchanged.
add_library(fuzz_product STATIC
    ${src}/common/src/log.cpp ${src}/common/src/config.cpp ${src}/common/src/metrics.cpp
    ${src}/common/src/crypto/crypto.cpp ${src}/common/src/crypto/keys.cpp ${src}/common/src/crypto/aes256gcm.cpp
    ${src}/common/src/web/problem.cpp ${src}/common/src/web/router.cpp ${src}/common/src/web/json_body.cpp
    ${src}/common/src/redis/reply.cpp
    ${src}/common/src/client/error.cpp ${src}/common/src/mode/client.cpp ${src}/common/src/mode/event.cpp
    ${src}/services/webhook-ingest/src/signature.cpp ${src}/services/webhook-ingest/src/event.cpp
    ${src}/services/webhook-ingest/src/settings.cpp
    ${src}/services/gateway/src/settings.cpp ${src}/services/gateway/src/accounts/validation.cpp
    ${src}/services/gateway/src/live/stream_machine.cpp)
target_include_directories(fuzz_product PUBLIC ${src}/common/include ${src}/services/gateway/src
    PRIVATE ${src}/common/src)
target_compile_options(fuzz_product PRIVATE -fsanitize=fuzzer-no-link,${MB_FUZZ_CHECKS})
target_link_libraries(fuzz_product PUBLIC fuzz_boost fmt::fmt PkgConfig::HIREDIS PkgConfig::SODIUM
    PRIVATE project_warnings)

set(MB_FUZZ_TARGETS webhook http_request json_body redis_reply mode_response stream_machine config)
foreach(t IN LISTS MB_FUZZ_TARGETS)
    add_executable(fuzz_${t} ${src}/tests/fuzz/fuzz_${t}.cpp)
    target_include_directories(fuzz_${t} PRIVATE ${src}/services)
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,${MB_FUZZ_CHECKS})
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer,${MB_FUZZ_CHECKS})
    target_link_libraries(fuzz_${t} PRIVATE fuzz_product project_warnings)
endforeach()
# scripts/fuzz.sh reads the list to know what to run.
string(REPLACE ";" " " MB_FUZZ_TARGET_LIST "${MB_FUZZ_TARGETS}")
file(WRITE ${PROJECT_BINARY_DIR}/fuzz_targets.txt "${MB_FUZZ_TARGET_LIST}\n")
