// Before any header: declares the GNU extensions wrapped here.
#define _GNU_SOURCE
#include "cposix.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

int cposix_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int cposix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cposix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
