/* core_open.h - a unit test's core dump and its program, opened for
 * tests that read a fixture's core (include after cmocka.h). */
#ifndef MV_TEST_CORE_OPEN_H
#define MV_TEST_CORE_OPEN_H

#include "program.h"
#include "target.h"

/* Opens core and the program over it (exe: the executable, NULL to
 * find it from the core), failing the test with the library's message
 * otherwise. */
static __attribute__((unused)) void
mv_test_open_core(const char *core, const char *exe, struct mv_target **t,
		  struct mv_program **p)
{
	struct mv_error *err = mv_target_open_core(core, t);
	if (err)
		fail_msg("mv_target_open_core: %s", mv_error_message(err));
	assert_null(mv_program_create(*t, p));
	err = mv_program_load_target_objfiles(*p, exe);
	if (err)
		fail_msg("load_target_objfiles: %s", mv_error_message(err));
}

#endif
