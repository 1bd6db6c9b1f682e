/*
 * The benchmark's floor: the least a user-space reader of vigil's open events can do. It loads
 * the same BPF object as vigil with only the open programs, reads the ring buffer on the same
 * cadence as the probe, and only counts records. Whatever vigil costs beyond this is vigil.
 *
 *   floor <vigil.bpf.o> <poll ms>    prints "ready" once attached; on SIGTERM prints
 *   "<records> <kernel sent> <kernel lost>" and exits
 */
#include <errno.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../../bpf/include/vigil.h"

static volatile sig_atomic_t stop;
static unsigned long long records;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	records++;
	return 0;
}

static int set_rodata(struct bpf_object *obj, const char *name, const void *value, size_t size)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);
		if (len < 7 || strcmp(n + len - 7, ".rodata") != 0)
			continue;
		size_t data_size;
		char *data = (char *)bpf_map__initial_value(m, &data_size);
		struct btf *btf = bpf_object__btf(obj);
		int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
		const struct btf_type *sec = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *vi = btf_var_secinfos(sec);
		for (int i = 0; i < btf_vlen(sec); i++, vi++) {
			const struct btf_type *v = btf__type_by_id(btf, vi->type);
			if (strcmp(btf__name_by_offset(btf, v->name_off), name) == 0 && vi->size == size) {
				memcpy(data + vi->offset, value, size);
				return 0;
			}
		}
	}
	return -ENOENT;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: floor <vigil.bpf.o> <poll ms>\n");
		return 2;
	}
	int poll_ms = atoi(argv[2]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	const char *open_progs[] = { "vg_x_open", "vg_x_openat", "vg_x_openat2", "vg_x_creat" };
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj)
	{
		int keep = 0;
		for (int i = 0; i < 4; i++)
			keep |= strcmp(bpf_program__name(p), open_progs[i]) == 0;
		bpf_program__set_autoload(p, keep);
	}
	__u32 self = getpid();
	__u64 enabled = 1ULL << VG_EV_OPEN;
	if (set_rodata(obj, "vg_self_tgid", &self, 4) || set_rodata(obj, "vg_enabled", &enabled, 8)) {
		fprintf(stderr, "cannot configure the object\n");
		return 1;
	}
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "vg_events"), 16 << 20);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct bpf_link *links[4];
	int n = 0;
	bpf_object__for_each_program(p, obj)
	{
		if (!bpf_program__autoload(p))
			continue;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			fprintf(stderr, "attach %s failed\n", bpf_program__name(p));
			return 1;
		}
		n++;
	}
	struct ring_buffer *rb =
		ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "vg_events")), on_record, NULL, NULL);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (ring_buffer__consume(rb) == 0)
			usleep(poll_ms * 1000);
	}
	ring_buffer__consume(rb);

	int ncpu = libbpf_num_possible_cpus();
	struct vg_counters *c = calloc(ncpu, sizeof(*c));
	__u32 zero = 0;
	bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "vg_counters")), &zero, c);
	unsigned long long sent = 0, lost = 0;
	for (int i = 0; i < ncpu; i++) {
		sent += c[i].sent[VG_EV_OPEN];
		lost += c[i].lost[VG_EV_OPEN];
	}
	printf("%llu %llu %llu\n", records, sent, lost);
	fflush(stdout);
	ring_buffer__free(rb);
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
