#ifndef CARENA_MEMORY_H
#define CARENA_MEMORY_H

/// Caps the malloc arenas glibc makes for threads (mallopt M_ARENA_MAX); no-op elsewhere.
void arena_limit_malloc_arenas(int count);

/// Turns transparent huge pages off for this process and its children (prctl
/// PR_SET_THP_DISABLE); no-op elsewhere.
void arena_disable_huge_pages(void);

/// Gives memory malloc holds free back to the system (malloc_trim); no-op elsewhere.
void arena_release_free_memory(void);

#endif
