// glibc's GNU extensions that Swift's Glibc module does not import: they are declared only under
// _GNU_SOURCE, which the module is built without. Each wrapper calls the function of the same
// name (cposix.c is compiled with _GNU_SOURCE); all exist since glibc 2.34 (Debian 12 has 2.36).
#ifndef CPOSIX_H
#define CPOSIX_H

#include <spawn.h>

/// pipe2(2): a pipe whose two ends get `flags` (O_CLOEXEC) atomically. -1 and errno on failure.
int cposix_pipe2(int fds[2], int flags);

/// posix_spawn_file_actions_addchdir_np: the child changes to `path` before it executes.
/// Returns 0 or an error number.
int cposix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` on.
/// Returns 0 or an error number.
int cposix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
