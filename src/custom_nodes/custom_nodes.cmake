# Example custom node libraries (C ABI of custom_node_interface.h), built as plain .so files that
# a config.json's custom_node_library_config_list can point to. They use only the C++ standard library.
foreach(node image_crop arithmetic)
  add_library(ovms_custom_node_${node} SHARED ${CMAKE_CURRENT_LIST_DIR}/${node}/${node}.cpp)
  target_include_directories(ovms_custom_node_${node} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  set_target_properties(ovms_custom_node_${node} PROPERTIES
    OUTPUT_NAME custom_node_${node} PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/src/custom_nodes)
endforeach()
