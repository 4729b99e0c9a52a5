/* SPDX-License-Identifier: MIT */
/*
 * Model arguments for unit tests that link a model or a back end without
 * the PCI bus (which owns the real struct uvfio_model_args): included by
 * exactly one file of each test program.
 */
#ifndef UVFIO_TEST_FAKE_MODEL_ARGS_H
#define UVFIO_TEST_FAKE_MODEL_ARGS_H

#include <string.h>

#include "uvfio/model.h"

struct uvfio_model_args {
	unsigned int n;
	const char *kv[4][2];
};

const char *uvfio_model_arg(const struct uvfio_model_args *args, const char *key)
{
	for (unsigned int i = 0; args && i < args->n; i++) {
		if (!strcmp(args->kv[i][0], key))
			return args->kv[i][1];
	}
	return NULL;
}

#endif
