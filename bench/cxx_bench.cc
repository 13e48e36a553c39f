// cxx_bench.cc - the C++ containers of make bench (issue 15): an
// unordered_map<int, std::string> and a vector<shared_ptr<Node>> of
// N entries each (N from argv[1], 1,000,000 by default).  Stops at
// mv_fixture_stop() for tools/make-core.sh.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "fixture.h"

struct Node {
	long v[4];
	Node *next;
};

std::unordered_map<int, std::string> g_umap;
std::vector<std::shared_ptr<Node>> g_vec_sp;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	g_umap.reserve((size_t)n);
	for (long i = 0; i < n; i++)
		g_umap[(int)i] = std::string(16 + i % 16, 'a');
	g_vec_sp.reserve((size_t)n);
	for (long i = 0; i < n; i++)
		g_vec_sp.push_back(std::make_shared<Node>());
	mv_fact("entries", "%ld", n);
	mv_fixture_done();
	return 0;
}
