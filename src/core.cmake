# Libraries of the server core, one per folder, and the ovms binary.
if(NOT TARGET ovms_core_types)
  add_library(ovms_core_types STATIC common/status.cpp engine/precision.cpp engine/tensor.cpp)
  target_include_directories(ovms_core_types PUBLIC ${CMAKE_CURRENT_LIST_DIR})
endif()

add_library(ovms_logging STATIC common/logging.cpp)
target_include_directories(ovms_logging PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ovms_logging PUBLIC spdlog::spdlog fmt::fmt)

add_library(ovms_engine STATIC engine/onnx_model.cpp engine/graph_edit.cpp)
target_link_libraries(ovms_engine PUBLIC onnx onnx_proto protobuf::libprotobuf)
target_link_libraries(ovms_engine PUBLIC ovms_core_types ovms_ir onnxruntime::onnxruntime Threads::Threads)

add_library(ovms_storage STATIC storage/local_filesystem.cpp)
target_include_directories(ovms_storage PUBLIC ${CMAKE_CURRENT_LIST_DIR})

add_library(ovms_serving STATIC serving/model_config.cpp serving/config_file.cpp serving/servable.cpp serving/model.cpp serving/model_manager.cpp serving/shape_config.cpp)
target_link_libraries(ovms_serving PUBLIC ovms_engine ovms_storage ovms_logging nlohmann_json::nlohmann_json)
target_compile_definitions(ovms_serving PRIVATE OVMS_HAVE_IR=1)
include(${CMAKE_CURRENT_LIST_DIR}/serving/pipeline/pipeline.cmake)  # DAG pipelines (§9)
include(${CMAKE_CURRENT_LIST_DIR}/custom_nodes/custom_nodes.cmake)  # example custom node libraries

foreach(fragment serving/cli.cmake api/tfs/codec.cmake api/image/image.cmake)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${fragment})
    include(${CMAKE_CURRENT_LIST_DIR}/${fragment})
  endif()
endforeach()

file(GLOB OVMS_API_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/api/tfs/*_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api/tfs/tfs_*.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api/kserve/*.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api/metrics/*.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api/*.cpp)
if(TARGET ovms_cli AND TARGET ovms_tfs_rest_codec AND TARGET ovms_proto AND TARGET ovms_http)
add_library(ovms_api STATIC ${OVMS_API_SOURCES})
target_link_libraries(ovms_api PUBLIC ovms_serving ovms_proto ovms_http ovms_tfs_rest_codec ovms_cli ovms_image prometheus-cpp::core)
target_compile_definitions(ovms_api PRIVATE OVMS_VERSION_STRING="${PROJECT_VERSION}")

add_executable(ovms main.cpp)
target_link_libraries(ovms PRIVATE ovms_api)
target_compile_definitions(ovms PRIVATE OVMS_VERSION="${PROJECT_VERSION}")
endif()
