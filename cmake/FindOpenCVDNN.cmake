# Debian 12 ships OpenCV's CMake config only with the full libopencv-dev; deepen needs just the
# DNN module (libopencv-dnn-dev), so we find its header and libraries directly.
find_path(OpenCVDNN_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4)
find_library(OpenCVDNN_DNN_LIBRARY NAMES opencv_dnn)
find_library(OpenCVDNN_CORE_LIBRARY NAMES opencv_core)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCVDNN
  REQUIRED_VARS OpenCVDNN_DNN_LIBRARY OpenCVDNN_CORE_LIBRARY OpenCVDNN_INCLUDE_DIR)
if(OpenCVDNN_FOUND AND NOT TARGET OpenCVDNN::dnn)
  add_library(OpenCVDNN::dnn INTERFACE IMPORTED)
  set_target_properties(OpenCVDNN::dnn PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenCVDNN_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${OpenCVDNN_DNN_LIBRARY};${OpenCVDNN_CORE_LIBRARY}")
endif()
