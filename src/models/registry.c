// SPDX-License-Identifier: MIT
/*
 * The device models built into uvfiod, by the name topology files use.
 */
#include <string.h>

#include "uvfio/model.h"

extern const struct uvfio_model_ops uvfio_edu_model;
extern const struct uvfio_model_ops uvfio_ioat_model;
extern const struct uvfio_model_ops uvfio_ramdev_model;
extern const struct uvfio_model_ops uvfio_virtio_net_model;

static const struct uvfio_model_ops *const models[] = {
	&uvfio_edu_model,
	&uvfio_ioat_model,
	&uvfio_ramdev_model,
	&uvfio_virtio_net_model,
};

const struct uvfio_model_ops *uvfio_model_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		if (!strcmp(models[i]->name, name))
			return models[i];
	}
	return NULL;
}
