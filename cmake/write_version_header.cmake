# Writes the version header from the git checkout at build time (cmake -P), so
# that every result's context names the revision the programs were built from,
# not the one CMake was first configured at. "-dirty" marks a build of a tree
# with uncommitted changes to tracked files: such results cannot be rebuilt
# from the revision alone. configure_file leaves the header untouched when its
# text is unchanged, so an unchanged revision rebuilds nothing.
# Inputs: PPB_SOURCE_DIR, PPB_TEMPLATE, PPB_OUTPUT, PROJECT_VERSION.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${PPB_SOURCE_DIR}
                OUTPUT_VARIABLE PPB_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE rev_status)
if(NOT rev_status EQUAL 0 OR NOT PPB_GIT_REVISION)
  set(PPB_GIT_REVISION unknown)  # a source tarball, or no git
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${PPB_SOURCE_DIR}
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(changes)
    string(APPEND PPB_GIT_REVISION "-dirty")
  endif()
endif()
configure_file(${PPB_TEMPLATE} ${PPB_OUTPUT} @ONLY)
