#ifndef DEVSYS_CSSH2_SHIM_H
#define DEVSYS_CSSH2_SHIM_H

#include <libssh2.h>

#endif
