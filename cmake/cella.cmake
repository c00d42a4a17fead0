# Project-wide compile settings and the helper that defines one library per source folder.

add_compile_options(-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough -Werror
                    -fno-strict-aliasing)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 false positives on std::array/std::variant code paths at -O2.
  add_compile_options(-Wno-array-bounds -Wno-stringop-overflow -Wno-maybe-uninitialized)
  # GCC 12 at -O3: "const char*" + std::string reports overlapping memcpy (GCC bug 105651).
  add_compile_options(-Wno-restrict)
endif()

# libFuzzer needs coverage instrumentation in the libraries under test, not just in the
# fuzz targets (which add -fsanitize=fuzzer themselves).
if(CELLA_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(CELLA_SANITIZE)
  add_compile_options(-fsanitize=${CELLA_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${CELLA_SANITIZE})
endif()

# cella_library(NAME DIR [DEPS ...]): a static library made of every .cc/.S file in DIR (not
# recursing into sub-folders that define their own libraries). A folder is a responsibility, so
# one folder is one library.
function(cella_library name dir)
  cmake_parse_arguments(ARG "" "" "DEPS;EXTRA_DIRS" ${ARGN})
  set(globs ${dir}/*.cc ${dir}/*.S)
  foreach(extra ${ARG_EXTRA_DIRS})
    list(APPEND globs ${extra}/*.cc ${extra}/*.S)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()
