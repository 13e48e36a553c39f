/* stackdeep.c - one heap block held from DEPTH frames of a recursion
 * (a local of each), for timing how stack holders are named
 * (bench/frames_bench.py: `referrers` of the block lists DEPTH stack
 * words, each named by its frame and local).
 *
 * Facts: "addr block", "depth". */
#include <stdlib.h>

#include "../tests/fixtures/fixture.h"

#ifndef DEPTH
#define DEPTH 1000
#endif

__attribute__((noinline)) static void hold(void *block, int depth)
{
	void *volatile held = block;
	if (depth > 1)
		hold(block, depth - 1);
	else
		mv_fixture_done();
	__asm__ volatile("" : : "r"(held) : "memory");
}

int main(void)
{
	void *block = malloc(64);
	mv_fact("addr block", "%p", block);
	mv_fact("depth", "%d", DEPTH);
	hold(block, DEPTH);
	free(block);
	return 0;
}
