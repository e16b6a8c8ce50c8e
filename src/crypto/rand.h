/*
 * rand.h - random bytes for data keys and nonces, drawn from a pool.
 *
 * An import draws four random values per row; a system call for each (the
 * kernel's getrandom, or the getpid check of libsodium's userspace
 * generator) was a fifth of its time on a virtual machine. The pool holds
 * 4 KiB from randombytes_buf at a time; every byte is handed out once and
 * wiped as it is taken. The pool is per thread and refilled after fork.
 */
#ifndef LK_CRYPTO_RAND_H
#define LK_CRYPTO_RAND_H

#include <stddef.h>

void rand_bytes(void *p, size_t n);

#endif
