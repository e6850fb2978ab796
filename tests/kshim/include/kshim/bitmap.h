/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: bitmaps (what include/rv/ltl_monitor.h and the LTL monitors' <m>.h
 * use of <linux/bitops.h>) and the printf extension that prints them.
 *
 * One thread: the non-atomic __set_bit() and __clear_bit() are all a monitor
 * here needs.  The kernel's "%*pbl" prints a bitmap of that many bits as a
 * list of ranges ("0-2,5"; nothing for an empty one); kshim's snprintf()
 * knows it only as the whole format, as ltl_monitor.h writes it, and gives
 * every other format to the C library unchanged.
 */
#ifndef KSHIM_BITMAP_H
#define KSHIM_BITMAP_H

#include "sync.h"

#define BIT_WORD(nr) ((nr) / BITS_PER_LONG)
#define BIT_MASK(nr) (1UL << ((nr) % BITS_PER_LONG))

static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return addr[BIT_WORD(nr)] & BIT_MASK(nr);
}

/* "%*pbl" of @bitmap, @nbits long, into @buf of @size bytes, cut as snprintf() cuts. */
static inline int kshim_bitmap_list(char *buf, size_t size, int nbits,
				    const unsigned long *bitmap)
{
	char list[4096] = "";
	size_t len = 0;

	if (nbits < 0 || nbits > 512)
		kshim_die("kshim prints bitmaps of at most 512 bits");

	for (int bit = 0; bit < nbits; bit++) {
		int last = bit;

		if (!test_bit(bit, bitmap))
			continue;
		while (last + 1 < nbits && test_bit(last + 1, bitmap))
			last++;
		len += sprintf(list + len, len ? ",%d" : "%d", bit);
		if (last > bit)
			len += sprintf(list + len, "-%d", last);
		bit = last;
	}
	return snprintf(buf, size, "%s", list);
}

static inline __printf(3, 4) int kshim_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int len;

	va_start(args, fmt);
	if (!strcmp(fmt, "%*pbl")) {
		int nbits = va_arg(args, int);

		len = kshim_bitmap_list(buf, size, nbits, va_arg(args, const unsigned long *));
	} else {
		if (strstr(fmt, "%*pb"))
			kshim_die("kshim prints a bitmap only as the whole format \"%*pbl\"");
		len = vsnprintf(buf, size, fmt, args);
	}
	va_end(args);
	return len;
}

#undef snprintf
#define snprintf kshim_snprintf

#endif /* KSHIM_BITMAP_H */
