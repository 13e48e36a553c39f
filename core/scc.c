/* scc.c - strongly connected components and concrete cycles over a CSR
 * graph, without recursion: a cycle of 100,000 leaked nodes, or a list of
 * ten million, is ordinary input and must not overflow the C stack. */
#include <stdlib.h>
#include <string.h>

#include "gc.h"

#define UNSET UINT32_MAX

/* One frame of the emulated recursion: the node and the next edge of it
 * to look at. */
struct frame {
	uint32_t v;
	uint64_t pos;
};

struct mv_error *mv_scc_tarjan(size_t n, const uint64_t *off,
			       const uint32_t *adj, uint32_t mask,
			       uint32_t *comp, size_t *ncomp,
			       mv_gc_poll_fn poll, void *poll_arg)
{
	*ncomp = 0;
	if (!n)
		return NULL;
	if (n >= UNSET)
		return mv_error_create(MV_ERR_LIMIT,
				       "too many nodes for the SCC search");
	uint32_t *index = malloc(n * sizeof(*index));
	uint32_t *low = malloc(n * sizeof(*low));
	uint32_t *stack = malloc(n * sizeof(*stack));
	struct frame *calls = malloc(n * sizeof(*calls));
	struct mv_error *err = NULL;
	if (!index || !low || !stack || !calls) {
		err = mv_enomem;
		goto out;
	}
	memset(index, 0xff, n * sizeof(*index));
	for (size_t v = 0; v < n; v++)
		comp[v] = UNSET;
	uint32_t counter = 0, nstack = 0, ncalls = 0, comps = 0;
	uint64_t steps = 0;
	for (size_t s = 0; s < n; s++) {
		if (index[s] != UNSET)
			continue;
		index[s] = low[s] = counter++;
		stack[nstack++] = (uint32_t)s;
		calls[ncalls++] = (struct frame){(uint32_t)s, off[s]};
		while (ncalls) {
			if (poll && ++steps % 65536 == 0 &&
			    (err = poll(poll_arg)))
				goto out;
			struct frame *f = &calls[ncalls - 1];
			uint32_t v = f->v;
			if (f->pos < off[v + 1]) {
				uint32_t w = adj[f->pos++] & mask;
				if (w >= n)
					continue; /* a bad edge is no edge */
				if (index[w] == UNSET) {
					index[w] = low[w] = counter++;
					stack[nstack++] = w;
					calls[ncalls++] =
						(struct frame){w, off[w]};
				} else if (comp[w] == UNSET &&
					   index[w] < low[v]) {
					/* w is on the stack: same SCC. */
					low[v] = index[w];
				}
				continue;
			}
			ncalls--;
			if (low[v] == index[v]) {
				uint32_t w;
				do {
					w = stack[--nstack];
					comp[w] = comps;
				} while (w != v);
				comps++;
			}
			if (ncalls) {
				uint32_t u = calls[ncalls - 1].v;
				if (low[v] < low[u])
					low[u] = low[v];
			}
		}
	}
	*ncomp = comps;
out:
	free(index);
	free(low);
	free(stack);
	free(calls);
	return err;
}

struct mv_error *mv_scc_cycle(size_t n, const uint64_t *off,
			      const uint32_t *adj, uint32_t mask,
			      const uint32_t *comp, uint32_t start,
			      uint32_t *ret, size_t max, size_t *nret)
{
	*nret = 0;
	if (start >= n || !max)
		return NULL;
	/* Breadth first from start inside its component: the first edge
	 * back to start closes a shortest cycle through it. */
	uint32_t *parent = malloc(n * sizeof(*parent));
	uint32_t *queue = malloc(n * sizeof(*queue));
	if (!parent || !queue) {
		free(parent);
		free(queue);
		return mv_enomem;
	}
	memset(parent, 0xff, n * sizeof(*parent));
	size_t head = 0, tail = 0;
	queue[tail++] = start;
	parent[start] = start;
	uint32_t last = UNSET;
	while (head < tail && last == UNSET) {
		uint32_t v = queue[head++];
		for (uint64_t k = off[v]; k < off[v + 1]; k++) {
			uint32_t w = adj[k] & mask;
			if (w >= n || comp[w] != comp[start])
				continue;
			if (w == start) {
				last = v;
				break;
			}
			if (parent[w] == UNSET) {
				parent[w] = v;
				queue[tail++] = w;
			}
		}
	}
	if (last != UNSET) {
		/* Walk back from last to start, then reverse. */
		size_t len = 0;
		for (uint32_t v = last;; v = parent[v]) {
			queue[len++] = v;
			if (v == start)
				break;
		}
		size_t take = len < max ? len : max;
		for (size_t i = 0; i < take; i++)
			ret[i] = queue[len - 1 - i];
		*nret = take;
	}
	free(parent);
	free(queue);
	return NULL;
}
