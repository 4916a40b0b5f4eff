#include "CArenaMemory.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

void arena_limit_malloc_arenas(int count) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, count);
#else
    (void)count;
#endif
}

void arena_disable_huge_pages(void) {
#if defined(__linux__)
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
}

void arena_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
