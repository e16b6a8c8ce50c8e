/*
 * netaddr.h - a listen setting ("IPV4:PORT" or "[IPV6]:PORT") as a socket
 * address, for the roles that listen ([http] listen, [lmtp] listen).
 */
#ifndef LK_CORE_NETADDR_H
#define LK_CORE_NETADDR_H

#include <sys/socket.h>

#include "core/buf.h"

/* Parses v; port 0 asks for any free port. Returns 0, or -1 with a message
 * that names the setting (key, e.g. "[http] listen") appended to err. */
int netaddr_parse_listen(const char *key, const char *v, struct sockaddr_storage *ss,
			 socklen_t *sslen, struct buf *err);

#endif
