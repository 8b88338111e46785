#ifndef DEVSYS_CGIT2_SHIM_H
#define DEVSYS_CGIT2_SHIM_H

#include <git2.h>
#include <git2/sys/repository.h>
#include <git2/sys/commit.h>
#include <git2/sys/odb_backend.h>

// git_libgit2_opts is variadic, which Swift cannot call: one fixed-signature wrapper per use.
static inline int devsys_git_opts_set_int(int option, int value) {
    return git_libgit2_opts(option, value);
}

static inline int devsys_git_opts_set_cache_object_limit(git_object_t type, size_t size) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, type, size);
}

#endif
