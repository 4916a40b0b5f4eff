#define _GNU_SOURCE
#include "CArenaFiles.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/openat2.h>
#endif

int arena_open_beneath(const char *root, const char *path, int flags) {
#if defined(__linux__) && defined(SYS_openat2)
    int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return -1;
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    // EAGAIN: a rename elsewhere raced the resolution (the kernel asks for a retry).
    for (int retry = 0; retry < 3 && fd < 0 && errno == EAGAIN; retry++) fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    int saved = errno;
    close(root_fd);
    errno = saved;
    return fd;
#else
    (void)root; (void)path; (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}
