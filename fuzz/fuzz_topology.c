// SPDX-License-Identifier: MIT
/*
 * Topology files: topology_load() on any text, then the host it built torn
 * down again, so each input starts from an empty bus.
 *
 * The pcap and tap packet back ends are kept out: a fuzzed "tx" path would
 * truncate any file the fuzzer may write, and "tap" creates host interfaces.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/vfio.h"
#include "daemon/topology.h"
#include "iommu/type1.h"
#include "pci/pci_bus.h"
#include "util/log.h"
#include "util/loop.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	uvfio_log_set_level(UVFIO_LOG_ERR);
	memfd = memfd_create("topology", MFD_CLOEXEC);
	if (memfd < 0 || uvfio_loop_init())
		abort();
	vfio_register_iommu_driver(&vfio_iommu_type1_ops);
	return 0;
}

/* Does any string anywhere in the document (keys included) name a back end
 * that reaches outside the process? */
static int names_host_backend(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);

		return !strcmp(s, "pcap") || !strcmp(s, "tap");
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (names_host_backend(json_object_array_get_idx(o, i)))
				return 1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (!strcmp(key, "pcap") || !strcmp(key, "tap") || names_host_backend(val))
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	json_object *doc;
	char *text;
	int bad;

	/* Parsed here as topology_load will parse it; a NUL byte could make the
	 * two readings differ, so such inputs are not used. */
	if (memchr(data, 0, size))
		return -1;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	doc = json_tokener_parse(text);
	free(text);
	bad = doc && names_host_backend(doc);
	json_object_put(doc);
	if (bad)
		return -1;

	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	topology_load(path, err, sizeof(err));
	pci_bus_fini();
	topology_fini();
	vfio_noiommu = false;
	return 0;
}
