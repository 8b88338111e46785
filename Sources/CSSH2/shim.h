#ifndef DEVSYS_CSSH2_SHIM_H
#define DEVSYS_CSSH2_SHIM_H

#include <libssh2.h>

// libssh2's function-like and compound macros are not imported into Swift; these restate the
// ones the SSH target uses.

/// `libssh2_session_init()`: a session with libssh2's default allocators.
static inline LIBSSH2_SESSION *devsys_ssh2_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

/// `libssh2_channel_open_session()` with a window of `window` bytes.
static inline LIBSSH2_CHANNEL *devsys_ssh2_channel_open_session(LIBSSH2_SESSION *session, unsigned int window) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1, window,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

/// `libssh2_channel_exec()`.
static inline int devsys_ssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

/// `libssh2_session_disconnect()` with "by application" as the reason.
static inline int devsys_ssh2_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

#endif
