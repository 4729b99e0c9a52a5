// SPDX-License-Identifier: MIT
#include "topology.h"

#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/user.h"
#include "core/vfio.h"
#include "pci/pci_bus.h"

/*
 * The default host: an edu device alone in its group; a two-function device
 * sharing one group; a group where one function is driven by a host
 * driver, so that group is not viable until `uvfio unbind` releases it; a
 * virtio-net NIC whose transmitted frames come back as received (loopback);
 * and an I/OAT DMA engine alone in its group.
 */
const char topology_default_json[] =
	"{\n"
	"  \"groups\": [\n"
	"    { \"id\": 10, \"devices\": [\n"
	"        { \"bdf\": \"0000:10:00.0\", \"model\": \"edu\", \"driver\": \"vfio-pci\" } ] },\n"
	"    { \"id\": 11, \"devices\": [\n"
	"        { \"bdf\": \"0000:10:01.0\", \"model\": \"ramdev\", \"driver\": \"vfio-pci\" },\n"
	"        { \"bdf\": \"0000:10:01.1\", \"model\": \"ramdev\", \"driver\": \"vfio-pci\" } ] },\n"
	"    { \"id\": 12, \"devices\": [\n"
	"        { \"bdf\": \"0000:10:02.0\", \"model\": \"edu\", \"driver\": \"vfio-pci\" },\n"
	"        { \"bdf\": \"0000:10:02.1\", \"model\": \"edu\", \"driver\": \"edu\" } ] },\n"
	"    { \"id\": 13, \"devices\": [\n"
	"        { \"bdf\": \"0000:10:03.0\", \"model\": \"virtio-net\", \"driver\": \"vfio-pci\",\n"
	"          \"args\": { \"backend\": \"loopback\" } } ] },\n"
	"    { \"id\": 14, \"devices\": [\n"
	"        { \"bdf\": \"0000:10:04.0\", \"model\": \"ioat\", \"driver\": \"vfio-pci\" } ] }\n"
	"  ]\n"
	"}\n";

struct node_owner {
	int group;
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

static struct node_owner *owners;
static size_t nr_owners;

void topology_apply_owners(void)
{
	for (size_t i = 0; i < nr_owners; i++)
		vfio_group_set_owner(owners[i].group, owners[i].uid, owners[i].gid,
				     owners[i].mode);
}

void topology_fini(void)
{
	free(owners);
	owners = NULL;
	nr_owners = 0;
}

static int get_id(json_object *v, bool user, long *out)
{
	const char *name;

	if (json_object_is_type(v, json_type_int)) {
		*out = (long)json_object_get_int64(v);
		return *out < 0 ? -EINVAL : 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	name = json_object_get_string(v);
	if (user) {
		struct passwd *pw = getpwnam(name);

		if (!pw)
			return -ENOENT;
		*out = (long)pw->pw_uid;
	} else {
		struct group *gr = getgrnam(name);

		if (!gr)
			return -ENOENT;
		*out = (long)gr->gr_gid;
	}
	return 0;
}

static const char *str_member(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return dflt;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int load_device(json_object *d, int group, char *err, size_t errlen)
{
	struct uvfio_model_args args = { 0 };
	const char *bdf = str_member(d, "bdf", NULL);
	const char *model = str_member(d, "model", NULL);
	const char *driver = str_member(d, "driver", "vfio-pci");
	json_object *a;
	int ret;

	if (!bdf || !model || !driver) {
		snprintf(err, errlen, "group %d: a device needs string \"bdf\" and \"model\"", group);
		return -EINVAL;
	}
	if (json_object_object_get_ex(d, "args", &a)) {
		if (!json_object_is_type(a, json_type_object)) {
			snprintf(err, errlen, "%s: \"args\" must be an object", bdf);
			return -EINVAL;
		}
		json_object_object_foreach(a, key, val) {
			if (args.n >= sizeof(args.kv) / sizeof(args.kv[0]) ||
			    strlen(key) >= sizeof(args.kv[0].key) ||
			    !json_object_is_type(val, json_type_string) ||
			    strlen(json_object_get_string(val)) >= sizeof(args.kv[0].value)) {
				snprintf(err, errlen, "%s: bad argument \"%s\"", bdf, key);
				return -EINVAL;
			}
			strcpy(args.kv[args.n].key, key);
			strcpy(args.kv[args.n].value, json_object_get_string(val));
			args.n++;
		}
	}
	ret = pci_bus_add_device(bdf, model, &args, group, driver, NULL);
	if (ret)
		snprintf(err, errlen, "%s: cannot add %s device: %s", bdf, model, strerror(-ret));
	return ret;
}

static int load_group(json_object *g, char *err, size_t errlen)
{
	struct node_owner no = { .uid = geteuid(), .gid = getegid(), .mode = 0600 };
	json_object *v, *devs;
	long id;

	if (!json_object_object_get_ex(g, "id", &v) || !json_object_is_type(v, json_type_int) ||
	    (id = (long)json_object_get_int64(v)) < 0 || id > 0x7fffffff) {
		snprintf(err, errlen, "a group needs a non-negative integer \"id\"");
		return -EINVAL;
	}
	no.group = (int)id;
	if (json_object_object_get_ex(g, "owner", &v)) {
		long uid;

		if (get_id(v, true, &uid)) {
			snprintf(err, errlen, "group %ld: unknown owner", id);
			return -EINVAL;
		}
		no.uid = (uid_t)uid;
	}
	if (json_object_object_get_ex(g, "group", &v)) {
		long gid;

		if (get_id(v, false, &gid)) {
			snprintf(err, errlen, "group %ld: unknown group", id);
			return -EINVAL;
		}
		no.gid = (gid_t)gid;
	}
	if (json_object_object_get_ex(g, "mode", &v)) {
		const char *m = json_object_is_type(v, json_type_string) ?
				json_object_get_string(v) : NULL;
		char *end;
		long mode = m ? strtol(m, &end, 8) : -1;

		if (!m || *end || mode < 0 || mode > 07777) {
			snprintf(err, errlen, "group %ld: \"mode\" must be an octal string", id);
			return -EINVAL;
		}
		no.mode = (mode_t)mode;
	}
	if (!json_object_object_get_ex(g, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array) || !json_object_array_length(devs)) {
		snprintf(err, errlen, "group %ld: \"devices\" must be a non-empty array", id);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		int ret = load_device(json_object_array_get_idx(devs, i), (int)id, err, errlen);

		if (ret)
			return ret;
	}
	struct node_owner *n = realloc(owners, (nr_owners + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	owners = n;
	owners[nr_owners++] = no;
	return 0;
}

/* "limits": { "files": 1024, ... }: the per-user limits, each a positive
 * number; the rest keep their defaults. */
static int load_limits(json_object *limits, char *err, size_t errlen)
{
	if (!json_object_is_type(limits, json_type_object)) {
		snprintf(err, errlen, "\"limits\" must be an object");
		return -EINVAL;
	}
	json_object_object_foreach(limits, key, val) {
		int res;

		for (res = 0; res < VFIO_USER_NR_RES; res++) {
			if (!strcmp(key, vfio_user_res_name(res)))
				break;
		}
		if (res == VFIO_USER_NR_RES) {
			snprintf(err, errlen, "limits: no limit is called \"%s\"", key);
			return -EINVAL;
		}
		if (!json_object_is_type(val, json_type_int) || json_object_get_int64(val) <= 0) {
			snprintf(err, errlen, "limits: %s must be a positive number", key);
			return -EINVAL;
		}
		vfio_user_set_limit(res, (uint64_t)json_object_get_int64(val));
	}
	return 0;
}

int topology_load(const char *path, char *err, size_t errlen)
{
	json_object *root, *groups, *v;
	int ret = 0;

	if (path) {
		root = json_object_from_file(path);
		if (!root) {
			snprintf(err, errlen, "%s: %s", path, json_util_get_last_err());
			return -EINVAL;
		}
	} else {
		root = json_tokener_parse(topology_default_json);
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "groups", &groups) ||
	    !json_object_is_type(groups, json_type_array)) {
		snprintf(err, errlen, "the topology needs a \"groups\" array");
		ret = -EINVAL;
		goto out;
	}
	if (json_object_object_get_ex(root, "unsafe_noiommu", &v))
		vfio_noiommu = json_object_get_boolean(v);
	if (json_object_object_get_ex(root, "limits", &v))
		ret = load_limits(v, err, errlen);
	for (size_t i = 0; !ret && i < json_object_array_length(groups); i++)
		ret = load_group(json_object_array_get_idx(groups, i), err, errlen);
	if (!ret)
		topology_apply_owners();
out:
	json_object_put(root);
	return ret;
}
