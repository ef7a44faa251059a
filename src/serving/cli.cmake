# The `ovms` command line (flag parsing and validation). Included by the top-level build;
# the target is defined only once even if several places include this file.
if(TARGET ovms_cli)
  return()
endif()
add_library(ovms_cli STATIC ${CMAKE_CURRENT_LIST_DIR}/cli.cpp)
target_include_directories(ovms_cli PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_compile_features(ovms_cli PUBLIC cxx_std_20)
target_link_libraries(ovms_cli PRIVATE cxxopts::cxxopts)
