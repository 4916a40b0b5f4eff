#ifndef CARENA_FILES_H
#define CARENA_FILES_H

/// Opens `path` (relative) inside the folder `root` with `flags`, failing with EXDEV when
/// resolving it (symbolic links included) would leave that folder: Linux's openat2 with
/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (tried again, up to 3 times, when a rename
/// elsewhere raced the resolution). Returns the descriptor, or -1 and errno (ENOSYS where the
/// kernel has no openat2, EPERM where a seccomp profile refuses it).
int arena_open_beneath(const char *root, const char *path, int flags);

#endif
