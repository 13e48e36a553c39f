/* modelref.h - memory's words seen through an object model: the object
 * holding a word, whether the word is a model's edge, and its name
 * (modelref.c).  referrers and path-to use it when the rules have
 * object rules (docs/types.md). */
#ifndef MV_MODELREF_H
#define MV_MODELREF_H

#include "buf.h"
#include "walk.h"

struct mv_model;
struct mv_refindex;

/* The model of the command's rules (--types, or the one that fits the
 * program), or *ret NULL when they have no object rule or there is no
 * heap model.  ri (may be NULL) finds the owners of blocks no object
 * starts in.  Close with mv_model_close. */
struct mv_error *mv_model_open(struct mv_cmd_ctx *ctx, struct mv_refindex *ri,
			       struct mv_model **ret);
void mv_model_close(struct mv_model *m);
/* Why the rules' running frames could not be told apart from their
 * stale slots on some thread (docs/types.md: frames ... running), one
 * sentence owned by m, or NULL. */
const char *mv_model_note(const struct mv_model *m);
/* The reverse index to find blocks' owners by (may be NULL). */
void mv_model_set_index(struct mv_model *m, struct mv_refindex *ri);

/* The object an object rule finds in the block ch: its address (0:
 * none) and the rule. */
struct mv_error *mv_model_object(struct mv_model *m, const struct mv_chunk *ch,
				 uint64_t *addr,
				 const struct mv_rule_object **rule);

struct mv_model_edge {
	bool is_edge;           /* the model follows the word */
	uint64_t owner;         /* the object holding it (0: a root, or
				 * none found) */
	uint64_t target_object; /* the target block's object (0: none) */
	struct mv_buf name;     /* from the owner: "[3]", "['x']", ".x" */
};

/* The word ref (pointing into the block target) through the model.
 * The caller deinits ret->name. */
struct mv_error *mv_model_edge(struct mv_model *m, const struct mv_ref *ref,
			       const struct mv_chunk *target,
			       struct mv_model_edge *ret);

/* The class of the model's object at addr (its typename rule's text:
 * "dict", "Session"; else its type's name) appended to out; nothing
 * when no object is there. */
struct mv_error *mv_model_class(struct mv_model *m, uint64_t addr,
				struct mv_buf *out);

/* Names path-to's hops (graph.c's chain) as the language does: each
 * hop held by a model object is "OBJECT" + the edge's name, OBJECT
 * being the expression of the object the chain reached it through, or
 * its show rule's text ("__main__.x", "<list at
 * 0x...>[3]").  exprs[i] (strdup'ed, the old one freed) is replaced
 * for those hops only.  Needs the model's index. */
struct mv_error *mv_model_expressions(struct mv_model *m,
				      const struct mv_path_hop *hops, size_t n,
				      char **exprs);

/* A struct mv_edge_filter's accept (refindex.h) for path-to, arg the
 * model (with its index): a root word is an edge unless it points
 * into an object's header; a heap word, or a block (ref NULL), is one
 * when the object holding it reaches the target through it. */
struct mv_error *mv_model_accept(void *arg, const struct mv_ref *ref,
				 size_t from, size_t to, bool *ret);

#endif
