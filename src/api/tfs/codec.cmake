# CMake fragment (include()d, not add_subdirectory'd): TF-Serving REST :predict JSON codec.
if(NOT TARGET ovms_core_types)
  add_library(ovms_core_types STATIC
    ${CMAKE_SOURCE_DIR}/src/common/status.cpp
    ${CMAKE_SOURCE_DIR}/src/engine/precision.cpp
    ${CMAKE_SOURCE_DIR}/src/engine/tensor.cpp)
  target_include_directories(ovms_core_types PUBLIC ${CMAKE_SOURCE_DIR}/src)
endif()

if(NOT TARGET ovms_tfs_rest_codec)
  if(NOT DEFINED RAPIDJSON_INCLUDE_DIRS AND NOT DEFINED RapidJSON_INCLUDE_DIRS)
    find_package(RapidJSON CONFIG REQUIRED)
  endif()
  add_library(ovms_tfs_rest_codec STATIC ${CMAKE_CURRENT_LIST_DIR}/rest_predict_codec.cpp)
  target_include_directories(ovms_tfs_rest_codec PUBLIC
    ${CMAKE_SOURCE_DIR}/src ${RAPIDJSON_INCLUDE_DIRS} ${RapidJSON_INCLUDE_DIRS})
  target_link_libraries(ovms_tfs_rest_codec PUBLIC ovms_core_types)
endif()
