/*
 * hll.h - HyperLogLog sketches: approximate counts of distinct items in a
 * fixed 16 KiB, with no record of the items themselves.
 *
 *   hll_add       add one item, given as a 64-bit hash of it
 *   hll_merge     the union of two sketches (register-wise maximum)
 *   hll_estimate  the number of distinct items added, approximately
 *
 * A sketch is HLL_REGISTERS bytes (precision HLL_P = 14: 16384 registers of
 * one byte each), so that it can be stored as a blob and two blobs merged
 * by taking the byte-wise maximum (store/store.h stats_add does that). The
 * standard error is 1.04 / sqrt(16384), about 0.8%; the estimator is Ertl's
 * improved one ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017; the one Redis uses), accurate from 0 to billions without
 * the bias corrections of the original.
 *
 * The hash must be uniform over 64 bits and, where the items are about
 * people, keyed (the caller's job: web/stats.c uses a keyed SipHash), so
 * that nobody without the key can test whether an item is in a sketch.
 *
 * TRUST: a sketch read from the store is taken as it is; any byte values
 * are safe (a register past the maximum counts as the maximum).
 */
#ifndef LK_CORE_HLL_H
#define LK_CORE_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 14
#define HLL_REGISTERS (1u << HLL_P)

void hll_add(uint8_t regs[HLL_REGISTERS], uint64_t hash);
/* dst = the union of dst and src. */
void hll_merge(uint8_t dst[HLL_REGISTERS], const uint8_t src[HLL_REGISTERS]);
double hll_estimate(const uint8_t regs[HLL_REGISTERS]);

#endif
