# Detects the optional parts. Each sets PPB_HAVE_<PART> to ON or OFF; a part set
# to ON that cannot be found stops the configuration, AUTO switches it off and
# says so in the summary line.

function(ppb_require_or_skip part found)
  if(NOT found AND PPB_ENABLE_${part} STREQUAL "ON")
    message(FATAL_ERROR "PPB_ENABLE_${part}=ON but its dependencies were not found")
  endif()
endfunction()

# MPI: the runtime and ppbench.
set(PPB_HAVE_MPI OFF)
if(NOT PPB_ENABLE_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(PPB_HAVE_MPI ON)
  endif()
  ppb_require_or_skip(MPI ${PPB_HAVE_MPI})
endif()

# cairo: SVG, PNG and PDF output.
set(PPB_HAVE_CAIRO OFF)
if(NOT PPB_ENABLE_CAIRO STREQUAL "OFF")
  find_package(PkgConfig)
  if(PkgConfig_FOUND)
    pkg_check_modules(CAIRO IMPORTED_TARGET cairo)
    if(CAIRO_FOUND)
      set(PPB_HAVE_CAIRO ON)
    endif()
  endif()
  ppb_require_or_skip(CAIRO ${PPB_HAVE_CAIRO})
endif()

# CUDA, NCCL and NVTX: the GPU backend and kernels. Only kernels/ and the CUDA
# backend enable the CUDA language.
set(PPB_HAVE_CUDA OFF)
set(PPB_HAVE_NCCL OFF)
set(PPB_HAVE_NVTX OFF)
if(NOT PPB_ENABLE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Hopper by default (the project's GPU machines); override on the command line.
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
    find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
    if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY AND PPB_HAVE_MPI)
      set(PPB_HAVE_CUDA ON)
      set(PPB_HAVE_NCCL ON)
      add_library(ppb_nccl INTERFACE)
      target_include_directories(ppb_nccl INTERFACE ${NCCL_INCLUDE_DIR})
      target_link_libraries(ppb_nccl INTERFACE ${NCCL_LIBRARY})
      if(TARGET CUDA::nvtx3)
        set(PPB_HAVE_NVTX ON)
      elseif(EXISTS ${CUDAToolkit_INCLUDE_DIRS}/nvtx3/nvToolsExt.h)
        set(PPB_HAVE_NVTX ON)
      endif()
    endif()
  endif()
  ppb_require_or_skip(CUDA ${PPB_HAVE_CUDA})
endif()

# The tests' CUDA and NCCL double (tests/cuda_double): the CUDA runtime and
# NCCL headers and MPI suffice (no nvcc, no GPU), so the backend's host code
# runs wherever CI runs.
set(PPB_HAVE_CUDA_DOUBLE OFF)
if(NOT PPB_ENABLE_CUDA_DOUBLE STREQUAL "OFF")
  find_path(PPB_CUDA_RUNTIME_INCLUDE_DIR cuda_runtime.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  find_path(PPB_NCCL_HEADER_DIR nccl.h HINTS ${NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  if(PPB_CUDA_RUNTIME_INCLUDE_DIR AND PPB_NCCL_HEADER_DIR AND PPB_HAVE_MPI)
    set(PPB_HAVE_CUDA_DOUBLE ON)
  endif()
  ppb_require_or_skip(CUDA_DOUBLE ${PPB_HAVE_CUDA_DOUBLE})
endif()
