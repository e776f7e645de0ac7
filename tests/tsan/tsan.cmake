# ThreadSanitizer build (cmake -DGG_TSAN=ON, `make test-tsan`), included from
# the root CMakeLists.txt after find_package(absl).
#
# Debian's absl and gRPC are not built with TSan, so the order their locks,
# completion queues and reaction counts give is invisible to it:
# absl_sync_annotations.cc restores absl's own TSan annotations and
# grpc_annotations.cc states gRPC's documented hand-offs. Every executable of
# this build links both (tests, the gateway that server tests spawn, the CLI).
#
# The environment of every test in this build (tests/CMakeLists.txt):
# - ignore_noninstrumented_modules: TSan still sees the locks and atomics
#   the libraries use, but not the memory that an intercepted call made
#   from them (free, memcpy, sendmsg inside libgrpc, libcurl, libstdc++)
#   touches: a library object handed between its own threads by code TSan
#   cannot see would otherwise be reported hundreds of times per run.
# - second_deadlock_stack: lock-order reports show both acquisitions.
# No suppressions file: with the annotations below nothing is reported.
set(GG_TSAN_OPTIONS ignore_noninstrumented_modules=1:second_deadlock_stack=1)

add_library(gg_tsan_annotations OBJECT
  ${CMAKE_CURRENT_LIST_DIR}/absl_sync_annotations.cc
  ${CMAKE_CURRENT_LIST_DIR}/grpc_annotations.cc)
target_link_libraries(gg_tsan_annotations PUBLIC absl::synchronization
  ${CMAKE_DL_LIBS})
# gRPC's headers only: a binary without gRPC never calls those functions.
target_include_directories(gg_tsan_annotations PRIVATE
  $<TARGET_PROPERTY:gRPC::grpc,INTERFACE_INCLUDE_DIRECTORIES>)

function(gg_tsan_link_executables dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_libraries(${t} PRIVATE gg_tsan_annotations)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    gg_tsan_link_executables(${sub})
  endforeach()
endfunction()
# Runs once every folder has declared its targets.
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR}
  CALL gg_tsan_link_executables ${CMAKE_SOURCE_DIR})
