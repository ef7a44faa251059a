# ovms_image: decoding of binary (JPEG/PNG) request inputs into NHWC tensors (OVMS §7.4).
# Included by src/core.cmake (after ovms_core_types is defined) or by tests/image.
if(NOT TARGET ovms_image)
  find_package(PkgConfig REQUIRED)
  if(NOT TARGET PkgConfig::TURBOJPEG)
    pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET GLOBAL libturbojpeg)
  endif()
  find_package(PNG REQUIRED)

  add_library(ovms_image STATIC ${CMAKE_CURRENT_LIST_DIR}/binary_input.cpp)
  target_include_directories(ovms_image PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(ovms_image PRIVATE PkgConfig::TURBOJPEG PNG::PNG)
  if(TARGET ovms_core_types)
    target_link_libraries(ovms_image PUBLIC ovms_core_types)
  endif()
endif()
