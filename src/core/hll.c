/*
 * hll.c - HyperLogLog sketches (see hll.h).
 *
 * Register j holds the largest "rank" seen among the hashes whose top HLL_P
 * bits are j; the rank is the position of the first 1 bit in the remaining
 * 64 - HLL_P bits (1..64-HLL_P+1). The estimate follows Ertl (2017),
 * algorithm 6, as Redis's hyperloglog.c does.
 *
 * TRUST: registers from outside are clamped to the largest rank when read.
 */
#include "core/hll.h"

#include <math.h>

#define HLL_Q (64 - HLL_P) /* bits left for the rank */

void hll_add(uint8_t regs[HLL_REGISTERS], uint64_t hash)
{
	uint32_t j = (uint32_t)(hash >> HLL_Q);
	/* A sentinel bit below the rank bits bounds the rank at HLL_Q + 1. */
	uint64_t w = (hash << HLL_P) | ((uint64_t)1 << (HLL_P - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1);
	if (rank > regs[j])
		regs[j] = rank;
}

void hll_merge(uint8_t dst[HLL_REGISTERS], const uint8_t src[HLL_REGISTERS])
{
	for (size_t j = 0; j < HLL_REGISTERS; j++)
		if (src[j] > dst[j])
			dst[j] = src[j];
}

/* Ertl's sigma and tau: the corrections for registers still at 0 and those
 * at the largest rank. */
static double sigma(double x)
{
	if (x == 1.0)
		return INFINITY;
	double y = 1.0, z = x, zprev;
	do {
		x *= x;
		zprev = z;
		z += x * y;
		y += y;
	} while (zprev != z);
	return z;
}

static double tau(double x)
{
	if (x == 0.0 || x == 1.0)
		return 0.0;
	double y = 1.0, z = 1.0 - x, zprev;
	do {
		x = sqrt(x);
		zprev = z;
		y *= 0.5;
		z -= (1.0 - x) * (1.0 - x) * y;
	} while (zprev != z);
	return z / 3.0;
}

double hll_estimate(const uint8_t regs[HLL_REGISTERS])
{
	unsigned c[HLL_Q + 2] = {0};
	for (size_t j = 0; j < HLL_REGISTERS; j++)
		c[regs[j] > HLL_Q + 1 ? HLL_Q + 1 : regs[j]]++;
	const double m = HLL_REGISTERS;
	double z = m * tau((m - c[HLL_Q + 1]) / m);
	for (int k = HLL_Q; k >= 1; k--) {
		z += c[k];
		z *= 0.5;
	}
	z += m * sigma(c[0] / m);
	if (z <= 0.0) /* every register at the largest rank: past what it can count */
		return ldexp(m, HLL_Q);
	return (0.5 / log(2.0)) * m * m / z;
}
