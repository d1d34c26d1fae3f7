/* Benchmark peer for backing resolution (scripts/bench-backing).
 *   fiemap-bench loop FILE [BATCH [PASSES]]
 *                                    the minimal FIEMAP loop: streams every extent, counts them,
 *                                    PASSES times (default 1, each pass starting with
 *                                    FIEMAP_FLAG_SYNC, as xen-vnvdimm's resolve-twice-and-compare
 *                                    does), prints "extents=N passes=P seconds=S maxrss_kb=K"
 *                                    (N = extents of one pass, S = all passes)
 *   fiemap-bench make FILE NBLOCKS   writes NBLOCKS 4 KiB blocks backwards with O_DIRECT, which on
 *                                    XFS gives one extent per block (the file to resolve)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One pass over the file's extents; returns how many it saw, or -1 on error. */
static long long pass(int fd, unsigned long long size, struct fiemap *fm, unsigned batch)
{
	unsigned long long next = 0;
	long long extents = 0;
	int last = 0, first = 1;
	while (!last && next < size) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = next;
		fm->fm_length = size - next;
		fm->fm_flags = first ? FIEMAP_FLAG_SYNC : 0;
		fm->fm_extent_count = batch;
		first = 0;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) { perror("FIEMAP"); return -1; }
		if (fm->fm_mapped_extents == 0)
			break;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];
			extents++;
			next = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
		}
	}
	return extents;
}

static int loop(const char *path, unsigned batch, unsigned passes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) { perror(path); return 1; }
	if (batch == 0 || passes == 0) { fprintf(stderr, "BATCH and PASSES must be positive\n"); return 2; }
	size_t sz = sizeof(struct fiemap) + batch * sizeof(struct fiemap_extent);
	struct fiemap *fm = calloc(1, sz);
	if (!fm) { perror("calloc"); return 1; }
	long long extents = 0;
	double t0 = now();
	for (unsigned p = 0; p < passes; p++) {
		long long n = pass(fd, st.st_size, fm, batch);
		if (n < 0)
			return 1;
		if (p > 0 && n != extents) { fprintf(stderr, "pass %u saw %lld extents, pass 1 %lld\n", p + 1, n, extents); return 1; }
		extents = n;
	}
	double t1 = now();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("extents=%lld passes=%u seconds=%.6f maxrss_kb=%ld\n", extents, passes, t1 - t0, ru.ru_maxrss);
	return 0;
}

static int make(const char *path, long blocks)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) { perror(path); return 1; }
	void *buf;
	if (posix_memalign(&buf, 4096, 4096)) return 1;
	for (long k = blocks - 1; k >= 0; k--) {
		memset(buf, (int)(k & 0xff), 4096);
		if (pwrite(fd, buf, 4096, k * 4096L) != 4096) { perror("pwrite"); return 1; }
	}
	return fsync(fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "loop"))
		return loop(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 512, argc > 4 ? (unsigned)atoi(argv[4]) : 1);
	if (argc == 4 && !strcmp(argv[1], "make"))
		return make(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: fiemap-bench loop FILE [BATCH [PASSES]] | make FILE NBLOCKS\n");
	return 2;
}
