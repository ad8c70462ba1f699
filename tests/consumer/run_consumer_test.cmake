# Installs ink from INK_SOURCE_DIR into a temporary prefix, then configures, builds and runs the
# consumer project in CONSUMER_DIR against that prefix, as a user's project would.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  message("${out}")
endfunction()
run(${CMAKE_COMMAND} -S ${INK_SOURCE_DIR} -B ${WORK_DIR}/ink-build -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
    -DINK_BUILD_TESTS=OFF -DINK_BUILD_EXAMPLES=OFF -DINK_BUILD_BENCH=OFF)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/ink-build)
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/app-build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/app-build)
run(${WORK_DIR}/app-build/app)
