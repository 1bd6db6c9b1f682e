/*
 * The small C layer between the TypeScript loader and libbpf, compiled at start by bun:ffi's
 * `cc` (TinyCC). It exists for two reasons: libbpf's ring buffer calls back per record, and
 * that callback must be C (a JS callback per record costs ~80 ns, a threadsafe one ~3 µs),
 * so records are copied into one native batch buffer that JS decodes in a single pass; and
 * a few libbpf calls take structs or varargs that are simpler to make from C.
 *
 * Every function returns a negative errno on failure (or NULL, with vg_errno()), never
 * aborts, and keeps libbpf's messages in a buffer that the loader reads to explain failures.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* ---- libbpf messages ---- */

static char log_buf[1 << 17];
static int log_len;
static int last_errno;

static int on_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	int room = (int)sizeof(log_buf) - log_len - 1;
	if (room <= 0)
		return 0;
	int n = vsnprintf(log_buf + log_len, room, fmt, args);
	if (n > 0)
		log_len += n < room ? n : room - 1;
	return 0;
}

int vg_init(void)
{
	libbpf_set_print(on_log);
	return 0;
}

/* Copy libbpf's messages since the last call into dst (NUL-terminated); returns the length. */
int vg_log_take(char *dst, int cap)
{
	int n = log_len < cap - 1 ? log_len : cap - 1;
	memcpy(dst, log_buf, n);
	dst[n] = 0;
	log_len = 0;
	return n;
}

int vg_errno(void)
{
	return last_errno;
}

/* ---- object ---- */

void *vg_open(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	long err = libbpf_get_error(obj);
	if (err) {
		last_errno = (int)-err;
		return NULL;
	}
	return obj;
}

void vg_close(void *obj)
{
	bpf_object__close(obj);
}

int vg_prog_count(void *obj)
{
	struct bpf_program *p;
	int n = 0;
	bpf_object__for_each_program(p, (struct bpf_object *)obj) n++;
	return n;
}

static void copy_str(char *dst, int cap, const char *src)
{
	int n = src ? (int)strlen(src) : 0;
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Name and section of the i-th program. */
int vg_prog_at(void *obj, int i, char *name, int name_cap, char *sec, int sec_cap)
{
	struct bpf_program *p;
	int n = 0;
	bpf_object__for_each_program(p, (struct bpf_object *)obj)
	{
		if (n++ == i) {
			copy_str(name, name_cap, bpf_program__name(p));
			copy_str(sec, sec_cap, bpf_program__section_name(p));
			return 0;
		}
	}
	return -ENOENT;
}

int vg_map_count(void *obj)
{
	struct bpf_map *m;
	int n = 0;
	bpf_object__for_each_map(m, (struct bpf_object *)obj) n++;
	return n;
}

int vg_map_at(void *obj, int i, char *name, int name_cap)
{
	struct bpf_map *m;
	int n = 0;
	bpf_object__for_each_map(m, (struct bpf_object *)obj)
	{
		if (n++ == i) {
			copy_str(name, name_cap, bpf_map__name(m));
			return 0;
		}
	}
	return -ENOENT;
}

int vg_set_autoload(void *obj, const char *prog, int on)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);
	if (!p)
		return -ENOENT;
	return bpf_program__set_autoload(p, on ? 1 : 0);
}

int vg_set_max_entries(void *obj, const char *map, unsigned int n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);
	if (!m)
		return -ENOENT;
	return bpf_map__set_max_entries(m, n);
}

/* Write a read-only global (`const volatile` in the BPF source) before load. */
int vg_set_rodata(void *obj, const char *var, const void *value, int size)
{
	struct bpf_map *m;
	struct bpf_map *rodata = NULL;
	bpf_object__for_each_map(m, (struct bpf_object *)obj)
	{
		const char *n = bpf_map__name(m);
		int len = (int)strlen(n);
		if (len >= 7 && strcmp(n + len - 7, ".rodata") == 0)
			rodata = m;
	}
	if (!rodata)
		return -ENOENT;
	size_t data_size = 0;
	char *data = (char *)bpf_map__initial_value(rodata, &data_size);
	struct btf *btf = bpf_object__btf(obj);
	if (!data || !btf)
		return -EINVAL;
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return id;
	const struct btf_type *sec = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *vi = btf_var_secinfos(sec);
	int vlen = btf_vlen(sec);
	for (int i = 0; i < vlen; i++, vi++) {
		const struct btf_type *v = btf__type_by_id(btf, vi->type);
		if (strcmp(btf__name_by_offset(btf, v->name_off), var) != 0)
			continue;
		if ((int)vi->size != size || vi->offset + vi->size > data_size)
			return -EINVAL;
		memcpy(data + vi->offset, value, size);
		return 0;
	}
	return -ENOENT;
}

int vg_load(void *obj)
{
	return bpf_object__load(obj);
}

int vg_map_fd(void *obj, const char *map)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);
	if (!m)
		return -ENOENT;
	return bpf_map__fd(m);
}

void *vg_attach(void *obj, const char *prog)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);
	if (!p) {
		last_errno = ENOENT;
		return NULL;
	}
	struct bpf_link *link = bpf_program__attach(p);
	long err = libbpf_get_error(link);
	if (err) {
		last_errno = (int)-err;
		return NULL;
	}
	return link;
}

int vg_link_destroy(void *link)
{
	return bpf_link__destroy(link);
}

static void *destroy_one(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Destroying links in the background. Detaching a program from a syscall tracepoint waits for
 * an RCU grace period (tens of ms, partly under a kernel mutex): a stop that detaches 70
 * programs takes seconds. A coordinator thread detaches them from several threads at once
 * (the waits partly overlap) while the caller polls vg_detach_done() without blocking.
 */
struct vg_detach {
	pthread_t coordinator;
	pthread_mutex_t lock;
	void **links;
	int n;
	int done;
};

static void *detach_all(void *arg)
{
	struct vg_detach *d = arg;
	pthread_t threads[256];
	int started = 0;
	for (int i = 0; i < d->n; i++) {
		if (started < 256 && pthread_create(&threads[started], NULL, destroy_one, d->links[i]) == 0)
			started++;
		else
			bpf_link__destroy(d->links[i]);
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_lock(&d->lock);
	d->done = 1;
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Start destroying `n` links (the array is copied); poll vg_detach_done(). */
void *vg_detach_start(void **links, int n)
{
	struct vg_detach *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->links = calloc(n > 0 ? n : 1, sizeof(void *));
	if (!d->links) {
		free(d);
		return NULL;
	}
	memcpy(d->links, links, n * sizeof(void *));
	d->n = n;
	pthread_mutex_init(&d->lock, NULL);
	if (pthread_create(&d->coordinator, NULL, detach_all, d) != 0) {
		detach_all(d);
		d->coordinator = 0;
	}
	return d;
}

/* 1 once every link is destroyed (the handle is then freed), else 0. */
int vg_detach_done(void *handle)
{
	struct vg_detach *d = handle;
	pthread_mutex_lock(&d->lock);
	int done = d->done;
	pthread_mutex_unlock(&d->lock);
	if (!done)
		return 0;
	if (d->coordinator)
		pthread_join(d->coordinator, NULL);
	pthread_mutex_destroy(&d->lock);
	free(d->links);
	free(d);
	return 1;
}

/* ---- ring buffer reader ---- */

struct vg_ring {
	struct ring_buffer *rb;
	unsigned char *buf; /* the caller's batch buffer, set for the duration of one drain */
	unsigned int cap;   /* bytes in buf */
	unsigned int soft;  /* stop after a record that ends beyond this */
	unsigned int max_records;
	unsigned int used;
	unsigned int count;
};

/*
 * Called by libbpf for each record, after it has moved the consumer past it: the record
 * must be kept now. Records are stored as [u32 length][u32 0][bytes, padded to 8].
 */
static int on_record(void *ctx, void *data, size_t len)
{
	struct vg_ring *r = ctx;
	unsigned int need = 8 + (((unsigned int)len + 7) & ~7u);
	/* never expected: the buffer has room for one record beyond the soft limit */
	if (r->used + need > r->cap)
		return -ENOSPC;
	unsigned char *dst = r->buf + r->used;
	*(unsigned int *)dst = (unsigned int)len;
	*(unsigned int *)(dst + 4) = 0;
	memcpy(dst + 8, data, len);
	r->used += need;
	r->count++;
	if (r->used > r->soft || r->count >= r->max_records)
		return -EAGAIN;
	return 0;
}

void *vg_ring_open(int map_fd, unsigned int soft, unsigned int max_records)
{
	struct vg_ring *r = calloc(1, sizeof(*r));
	if (!r) {
		last_errno = ENOMEM;
		return NULL;
	}
	r->soft = soft;
	r->max_records = max_records;
	r->rb = ring_buffer__new(map_fd, on_record, r, NULL);
	long err = libbpf_get_error(r->rb);
	if (err) {
		free(r);
		last_errno = (int)-err;
		return NULL;
	}
	return r;
}

/*
 * Copy the records available now (up to the soft limit or record count) into `buf` (`cap`
 * bytes, owned by the caller). Returns the number of records; vg_ring_used() gives the bytes.
 */
int vg_ring_drain(void *ring, void *buf, unsigned int cap)
{
	struct vg_ring *r = ring;
	r->buf = buf;
	r->cap = cap;
	r->used = 0;
	r->count = 0;
	int err = ring_buffer__consume(r->rb);
	r->buf = NULL;
	if (err < 0 && err != -EAGAIN)
		return err;
	return (int)r->count;
}

unsigned int vg_ring_used(void *ring)
{
	return ((struct vg_ring *)ring)->used;
}

void vg_ring_close(void *ring)
{
	struct vg_ring *r = ring;
	ring_buffer__free(r->rb);
	free(r);
}

/* ---- maps, clocks, features ---- */

int vg_map_lookup(int fd, const void *key, void *value)
{
	return bpf_map_lookup_elem(fd, key, value) < 0 ? -errno : 0;
}

int vg_num_possible_cpus(void)
{
	return libbpf_num_possible_cpus();
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC (bpf_ktime_get_ns), in ns, read back to back. */
double vg_clock_offset(void)
{
	struct timespec mono, real, mono2;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono2);
	double m = ((double)mono.tv_sec * 1e9 + (double)mono.tv_nsec + (double)mono2.tv_sec * 1e9 +
		    (double)mono2.tv_nsec) /
		   2;
	return (double)real.tv_sec * 1e9 + (double)real.tv_nsec - m;
}

int vg_probe_prog_type(int type)
{
	return libbpf_probe_bpf_prog_type(type, NULL);
}

int vg_probe_map_type(int type)
{
	return libbpf_probe_bpf_map_type(type, NULL);
}

int vg_probe_helper(int prog_type, int helper)
{
	return libbpf_probe_bpf_helper(prog_type, helper, NULL);
}

int vg_mount_tracefs(const char *target)
{
	return mount("nodev", target, "tracefs", 0, NULL) < 0 ? -errno : 0;
}
