# sotto_module: module.c, the loader of the optional driver modules (module.h), shared by the
# store (PostgreSQL) and mail (SMTP). Included by each part that needs it, defined once.
include_guard(GLOBAL)
add_library(sotto_module STATIC ${CMAKE_CURRENT_LIST_DIR}/module.c)
target_include_directories(sotto_module PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(sotto_module PUBLIC ${CMAKE_DL_LIBS})
