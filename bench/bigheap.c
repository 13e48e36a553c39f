/* bigheap.c - the generator of `make bench-big`: a heap of N live
 * allocations of mixed sizes (N from argv[1] or $MV_BIGHEAP_N, default
 * 10,000,000) shaped
 * like a server's, with its own ground truth written to $MV_FACTS:
 *
 *   - a hash table of lists: each entry a node and a name string of one
 *     of seven sizes (two allocations an entry);
 *   - a complete binary tree (a fifth of the blocks);
 *   - a pointer array holding blocks of 24..136 bytes (a fifth);
 *   - a 2-object root (g_small: a pair pointing at a pair), for the
 *     first-answer time;
 *   - a known path: a global, then PATH_LEN blocks chained one to the
 *     next, nothing else pointing into them (the last is path-to's
 *     target, PATH_LEN pointers from a root);
 *   - 1% leaked, in groups of GROUP blocks that nothing outside the
 *     group points to: half chains (a head and GROUP-1 blocks behind
 *     it), half rings (cycles).  memcheck's rules make the
 *     lowest-addressed block of each group definitely lost and the rest
 *     indirectly lost.
 *
 * Facts: blocks N (live allocations of the program, leaks included),
 * leaked.definitely N, leaked.indirectly N, leaked.possibly 0,
 * leaked.cycles N (rings), small.objects 2, small.type_bytes,
 * small.chunk_bytes, tree.nodes, tree.left2.nodes (the subtree at
 * g_tree->left->left), sizeof struct tnode, table.buckets (g_nbuckets,
 * g_table's length), ptrs.count (g_nptrs), path.len, path.target
 * (scrambled with KEY so that the facts hold no pointer), pid.
 *
 * Keys and payloads are small integers and letters: no word of the heap
 * looks like a pointer except the pointers. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include "../tests/fixtures/fixture.h"

#define PATH_LEN 22
#define GROUP 10
#define KEY 0xa5a5a5a5a5a5a5a5ull

struct ent {
	struct ent *next;
	uint64_t key;
	char *name;
};

struct tnode {
	struct tnode *left, *right;
	uint64_t key;
};

struct pair {
	struct pair *next;
	uint64_t value;
};

struct hop {
	struct hop *next;
	uint64_t depth;
	char pad[16];
};

struct ent **g_table;
size_t g_nbuckets;
struct tnode *g_tree;
void **g_ptrs;
size_t g_nptrs;
struct pair *g_small;
struct hop *g_path;

static char facts_buffer[1 << 12];
static size_t nblocks;

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "bigheap: out of memory\n");
		exit(1);
	}
	nblocks++;
	return p;
}

static void build_table(size_t nent)
{
	g_nbuckets = nent / 4 + 1;
	g_table = calloc(g_nbuckets, sizeof(*g_table));
	if (!g_table)
		exit(1);
	nblocks++;
	for (size_t i = 0; i < nent; i++) {
		struct ent *e = xmalloc(sizeof(*e));
		size_t len = 8 + (i % 7) * 16;
		e->name = xmalloc(len);
		memset(e->name, 'a' + (int)(i % 26), len - 1);
		e->name[len - 1] = 0;
		e->key = i;
		size_t b = (i * 2654435761u) % g_nbuckets;
		e->next = g_table[b];
		g_table[b] = e;
	}
}

/* A complete binary tree in heap order, built bottom-up without
 * recursion: node i's children are 2i+1 and 2i+2. */
static void build_tree(size_t n)
{
	struct tnode **nodes = malloc(n * sizeof(*nodes));
	if (!nodes)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		nodes[i] = xmalloc(sizeof(struct tnode));
		nodes[i]->key = i;
	}
	for (size_t i = 0; i < n; i++) {
		nodes[i]->left = 2 * i + 1 < n ? nodes[2 * i + 1] : NULL;
		nodes[i]->right = 2 * i + 2 < n ? nodes[2 * i + 2] : NULL;
	}
	g_tree = n ? nodes[0] : NULL;
	free(nodes);
}

static size_t subtree_nodes(size_t root, size_t n)
{
	/* Nodes of the heap-order subtree at root: level by level. */
	size_t count = 0, lo = root, width = 1;
	while (lo < n) {
		size_t hi = lo + width;
		count += (hi < n ? hi : n) - lo;
		lo = 2 * lo + 1;
		width *= 2;
	}
	return count;
}

static void build_ptrs(size_t n)
{
	g_nptrs = n;
	g_ptrs = xmalloc(n * sizeof(*g_ptrs));
	for (size_t i = 0; i < n; i++) {
		size_t len = 24 + (i % 8) * 16;
		g_ptrs[i] = xmalloc(len);
		memset(g_ptrs[i], 'x', len);
	}
}

/* Leaked groups: nothing outside a group points into it once this
 * returns (the stack is scrubbed by the caller). */
__attribute__((noinline)) static size_t build_leaks(size_t ngroups)
{
	size_t rings = 0;
	for (size_t g = 0; g < ngroups; g++) {
		struct pair *first = xmalloc(sizeof(*first)), *p = first;
		first->value = g;
		for (size_t k = 1; k < GROUP; k++) {
			p->next = xmalloc(sizeof(*p));
			p = p->next;
			p->value = k;
		}
		p->next = g % 2 ? first : NULL;
		rings += g % 2;
	}
	return rings;
}

__attribute__((noinline)) static void build_small_and_path(void)
{
	g_small = xmalloc(sizeof(*g_small));
	g_small->next = xmalloc(sizeof(*g_small));
	g_small->value = 1;
	g_small->next->next = NULL;
	g_small->next->value = 2;
	struct hop **at = &g_path;
	for (int i = 0; i < PATH_LEN; i++) {
		*at = xmalloc(sizeof(**at));
		memset(*at, 0, sizeof(**at));
		(*at)->depth = (uint64_t)i + 1;
		at = &(*at)->next;
	}
}

/* Overwrites the stack below the caller, where the builders' locals
 * lay, so that no stale pointer there holds a leaked block. */
__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char buf[1 << 16];
	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" ::"r"(buf) : "memory");
}

/* The target's address leaves no trace in main's registers: only
 * here, and this frame is gone at the stop. */
__attribute__((noinline)) static void path_facts(void)
{
	struct hop *target = g_path;
	while (target->next)
		target = target->next;
	mv_fact("path.len", "%d", PATH_LEN);
	mv_fact("path.target", "0x%llx",
		(unsigned long long)((uintptr_t)target ^ KEY));
}

int main(int argc, char **argv)
{
	const char *env = getenv("MV_BIGHEAP_N");
	size_t n = argc > 1   ? strtoull(argv[1], NULL, 10)
		   : env ? strtoull(env, NULL, 10)
			 : 10000000;
	if (n < 10000)
		n = 10000;
	const char *path = getenv("MV_FACTS");
	mv_facts_file = fopen(path ? path : "/dev/null", "w");
	if (!mv_facts_file)
		return 1;
	setvbuf(mv_facts_file, facts_buffer, _IOFBF, sizeof(facts_buffer));
	/* The facts' FILE is an allocation that fclose frees at the stop:
	 * not counted. */
	size_t leaked = n / 100 / GROUP * GROUP;
	size_t ngroups = leaked / GROUP;
	size_t ntree = n / 5, nptrs = n / 5;
	size_t fixed = 2 + PATH_LEN + leaked + ntree + nptrs + 1 + 1;
	size_t nent = n > fixed ? (n - fixed) / 2 : 0;
	build_small_and_path();
	size_t rings = build_leaks(ngroups);
	scrub_stack();
	build_tree(ntree);
	build_ptrs(nptrs);
	build_table(nent);

	mv_fact("blocks", "%zu", nblocks);
	mv_fact("leaked.definitely", "%zu", ngroups);
	mv_fact("leaked.indirectly", "%zu", ngroups * (GROUP - 1));
	mv_fact("leaked.possibly", "%d", 0);
	mv_fact("leaked.cycles", "%zu", rings);
	mv_fact("leaked.usable", "%zu",
		leaked * malloc_usable_size(g_small));
	mv_fact("small.objects", "%d", 2);
	mv_fact("small.type_bytes", "%zu", 2 * sizeof(struct pair));
	mv_fact("small.chunk_bytes", "%zu",
		malloc_usable_size(g_small) + 8 +
			malloc_usable_size(g_small->next) + 8);
	mv_fact("tree.nodes", "%zu", ntree);
	mv_fact("tree.left2.nodes", "%zu", subtree_nodes(3, ntree));
	mv_fact("sizeof struct tnode", "%zu", sizeof(struct tnode));
	mv_fact("table.buckets", "%zu", g_nbuckets);
	mv_fact("ptrs.count", "%zu", g_nptrs);
	path_facts();
	mv_fact("pid", "%d", (int)getpid());
	scrub_stack();
	mv_fixture_done();
	return 0;
}
