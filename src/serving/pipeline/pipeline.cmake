# DAG pipelines and custom nodes (§9): part of ovms_serving (the model manager holds pipelines).
target_sources(ovms_serving PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/pipeline_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/node_library.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pipeline.cpp)
target_link_libraries(ovms_serving PUBLIC ${CMAKE_DL_LIBS})
