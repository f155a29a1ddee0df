# Shared build settings and the one helper every module uses.

# Asio and Beast are compiled once, in gateway/asio_impl (separate compilation), so every
# translation unit that includes them must agree on these definitions.
add_compile_definitions(
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  # Asio recycles coroutine frames and handlers per thread; its default of 2 cached blocks per
  # purpose is too few for a request path that nests several coroutines (each miss is a malloc).
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=16
  BOOST_JSON_NO_LIB BOOST_URL_NO_LIB
  SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)

add_library(esgate_options INTERFACE)
target_compile_features(esgate_options INTERFACE cxx_std_20)
target_compile_options(esgate_options INTERFACE -Wall -Wextra
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> $<$<CXX_COMPILER_ID:Clang>:-Wshadow>)
if(ESGATE_WARNINGS_AS_ERRORS)
  target_compile_options(esgate_options INTERFACE -Werror)
endif()
if(ESGATE_SANITIZE)
  string(REPLACE ";" "," _esgate_san "${ESGATE_SANITIZE}")
  add_compile_options(-fsanitize=${_esgate_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_esgate_san})
endif()

# esgate_module(NAME [DEPS a b ...])
# Builds gateway/NAME/*.cpp into the static library esgate_NAME (target alias esgate::NAME).
# Public headers live in include/esgate/NAME/. Adding a .cpp needs no CMake edit.
function(esgate_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${name}/*.cpp)
  if(NOT _srcs)  # header-only so far
    add_library(esgate_${name} INTERFACE)
    target_include_directories(esgate_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(esgate_${name} INTERFACE esgate_options ${M_DEPS})
    add_library(esgate::${name} ALIAS esgate_${name})
    return()
  endif()
  add_library(esgate_${name} STATIC ${_srcs})
  add_library(esgate::${name} ALIAS esgate_${name})
  target_include_directories(esgate_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/${name})
  target_link_libraries(esgate_${name} PUBLIC esgate_options ${M_DEPS})
endfunction()
