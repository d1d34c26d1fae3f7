/*
 * Runs Xen's own libraries (libxenctrl, libxendevicemodel, libxenevtchn from libxen-dev) against a
 * scripted fake kernel: open/ioctl/mmap are interposed so nothing reaches a real /dev/xen. Prints the
 * XEN_DOMCTL_memory_mapping calls libxc makes (its loop semantics under partial counts, -E2BIG and
 * failure) and the DM op / event channel ioctls libxendevicemodel / libxenevtchn make.
 *
 * usage: libxc_trace map GFN MFN NR ADD PERCALL MAXBATCH FAILADD FAILREMOVE
 *        libxc_trace dmops
 *        libxc_trace misc     (xen_version, iomem_permission, decrease_reservation, populate_physmap,
 *                              resource and foreign maps)
 * Fake Xen: a memory_mapping call fails with -ENOMEM when it is add call number FAILADD (or remove call
 * number FAILREMOVE), -E2BIG above MAXBATCH frames, returns PERCALL (partial) above PERCALL frames,
 * else 0 (x86 Xen's map/unmap_mmio_regions both report partial progress).
 */
#define _GNU_SOURCE
#include "xenabi.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#define DOM 7
#define MAXFD 1024
static char kind[MAXFD]; /* 'p' privcmd, 'h' hypercall, 'e' evtchn */
static unsigned long long percall = ~0ULL, maxbatch = ~0ULL;
static long failadd = -1, failremove = -1, nadd, nremove;

static int fake_fd(char k)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fd < MAXFD)
        kind[fd] = k;
    return fd;
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
    if (!strcmp(path, "/dev/xen/privcmd")) return fake_fd('p');
    if (!strcmp(path, "/dev/xen/hypercall")) return fake_fd('h');
    if (!strcmp(path, "/dev/xen/evtchn")) return fake_fd('e');
    if (!strncmp(path, "/dev/xen/", 9) || !strncmp(path, "/proc/xen/", 10)) { errno = ENOENT; return -1; }
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

/* _FORTIFY_SOURCE builds call this for open(path, flags) without a mode. */
int __open_2(const char *path, int flags) { return open(path, flags); }

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (fd >= 0 && fd < MAXFD && kind[fd])
        return (void *)syscall(SYS_mmap, addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void hex(const void *p, size_t n)
{
    putchar(' ');
    for (size_t i = 0; i < n; i++) printf("%02x", ((const unsigned char *)p)[i]);
}

static long fake_domctl(struct xen_domctl *d)
{
    if (d->cmd == XEN_DOMCTL_getdomaininfo) {
        d->u.getdomaininfo.domain = d->domain;
        d->u.getdomaininfo.flags = XEN_DOMINF_hvm_guest;
        return 0;
    }
    if (d->cmd == XEN_DOMCTL_iomem_permission) {
        /* libxc leaves the rest of the union uninitialised: print the header and the member's fields. */
        printf("iomem %x %x %x %llx %llx %x\n", d->cmd, d->interface_version, d->domain,
               (unsigned long long)d->u.iomem_permission.first_mfn, (unsigned long long)d->u.iomem_permission.nr_mfns,
               d->u.iomem_permission.allow_access);
        return 0;
    }
    if (d->cmd != XEN_DOMCTL_memory_mapping) return 0;
    struct xen_domctl_memory_mapping *m = &d->u.memory_mapping;
    long rc = 0;
    if (m->add_mapping ? nadd++ == failadd : nremove++ == failremove) rc = -ENOMEM;
    else if (m->nr_mfns > maxbatch) rc = -E2BIG;
    else if (m->nr_mfns > percall) rc = (long)percall;
    printf("mm %llx %llx %llx %u %ld\n", (unsigned long long)m->first_gfn, (unsigned long long)m->first_mfn,
           (unsigned long long)m->nr_mfns, m->add_mapping, rc);
    return rc;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap; va_start(ap, req); void *arg = va_arg(ap, void *); va_end(ap);
    if (fd < 0 || fd >= MAXFD || !kind[fd]) { errno = ENOTTY; return -1; }
    long rc = 0;
    if (req == IOCTL_PRIVCMD_HYPERCALL && ((struct privcmd_hypercall *)arg)->op == __HYPERVISOR_multicall) {
        /*
         * libxencall's xencall*L() issue a hypercall as a one-entry multicall to get a full long result.
         * Unwrap it and trace the inner call as the direct hypercall it stands for.
         */
        struct privcmd_hypercall *mc = arg;
        multicall_entry_t *e = (multicall_entry_t *)mc->arg[0];
        for (unsigned long i = 0; i < mc->arg[1]; i++) {
            struct privcmd_hypercall inner = { .op = e[i].op };
            for (int j = 0; j < 5; j++) inner.arg[j] = e[i].args[j];
            int r = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &inner);
            e[i].result = r < 0 ? (xen_ulong_t)-errno : (xen_ulong_t)r;
        }
        return 0;
    }
    if (req == IOCTL_PRIVCMD_HYPERCALL) {
        struct privcmd_hypercall *h = arg;
        if (h->op == __HYPERVISOR_domctl) rc = fake_domctl((struct xen_domctl *)h->arg[0]);
        else if (h->op == __HYPERVISOR_xen_version) {
            printf("hypercall %lx", req); hex(h, sizeof(*h)); putchar('\n');
            rc = (4 << 16) | 17;
        } else if (h->op == __HYPERVISOR_memory_op && (h->arg[0] == XENMEM_decrease_reservation || h->arg[0] == XENMEM_populate_physmap)) {
            struct privcmd_hypercall hh = *h;
            struct xen_memory_reservation r = *(struct xen_memory_reservation *)h->arg[1];
            const void *extents = (const void *)r.extent_start.p;
            hh.arg[1] = 0;
            r.extent_start.p = NULL;
            printf("hypercall %lx", req); hex(&hh, sizeof(hh)); hex(&r, sizeof(r)); hex(extents, r.nr_extents * sizeof(xen_pfn_t));
            putchar('\n');
            rc = (long)r.nr_extents;
        }
    } else if (req == IOCTL_PRIVCMD_DM_OP) {
        struct privcmd_dm_op o = *(struct privcmd_dm_op *)arg;
        if (o.num == 0) return 0; /* libxendevicemodel's probe for the ioctl */
        printf("%s %lx", "dmop", req);
        const struct privcmd_dm_op_buf *b = o.ubufs;
        o.ubufs = NULL;
        hex(&o.dom, sizeof(o.dom)); hex(&o.num, sizeof(o.num)); /* the padding between is not initialised */
        for (int i = 0; i < o.num; i++) {
            struct privcmd_dm_op_buf d = b[i];
            d.uptr = NULL;
            hex(&d, sizeof(d)); hex(b[i].uptr, b[i].size);
        }
        putchar('\n');
        struct xen_dm_op *op = b[0].uptr;
        if (op->op == XEN_DMOP_create_ioreq_server) op->u.create_ioreq_server.id = 1;
        if (op->op == XEN_DMOP_nr_vcpus) op->u.nr_vcpus.vcpus = 4;
    } else if (req == IOCTL_PRIVCMD_RESTRICT) {
        printf("restrict %lx", req); hex(arg, sizeof(domid_t)); putchar('\n');
    } else if (req == IOCTL_EVTCHN_BIND_INTERDOMAIN) {
        printf("evtchn %lx", req); hex(arg, sizeof(struct ioctl_evtchn_bind_interdomain)); putchar('\n');
        rc = 1;
    } else if (req == IOCTL_EVTCHN_NOTIFY || req == IOCTL_EVTCHN_UNBIND) {
        printf("evtchn %lx", req); hex(arg, 4); putchar('\n');
    } else if (req == IOCTL_PRIVCMD_MMAP_RESOURCE) {
        struct privcmd_mmap_resource r = *(struct privcmd_mmap_resource *)arg;
        r.addr = 0;
        printf("mmap_resource %lx", req); hex(&r, sizeof(r)); putchar('\n');
    } else if (req == IOCTL_PRIVCMD_MMAPBATCH_V2) {
        struct privcmd_mmapbatch_v2 m = *(struct privcmd_mmapbatch_v2 *)arg;
        const xen_pfn_t *arr = m.arr;
        for (unsigned i = 0; i < m.num; i++) m.err[i] = 0;
        m.addr = 0; m.arr = NULL; m.err = NULL;
        printf("mmapbatch_v2 %lx", req); hex(&m, sizeof(m)); hex(arr, m.num * sizeof(xen_pfn_t)); putchar('\n');
    } else {
        errno = ENOTTY; /* what privcmd answers for anything else (libxenforeignmemory checks) */
        return -1;
    }
    if (rc < 0) { errno = (int)-rc; return -1; }
    return (int)rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 10 && !strcmp(argv[1], "map")) {
        unsigned long gfn = strtoul(argv[2], 0, 0), mfn = strtoul(argv[3], 0, 0), nr = strtoul(argv[4], 0, 0);
        percall = strtoull(argv[6], 0, 0); maxbatch = strtoull(argv[7], 0, 0);
        failadd = strtol(argv[8], 0, 0); failremove = strtol(argv[9], 0, 0);
        xc_interface *xch = xc_interface_open(NULL, NULL, 0);
        if (!xch) { perror("xc_interface_open"); return 2; }
        int rc = xc_domain_memory_mapping(xch, DOM, gfn, mfn, nr, (uint32_t)strtoul(argv[5], 0, 0));
        printf("rc %d\n", rc < 0 ? -1 : rc);
        xc_interface_close(xch);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "dmops")) {
        xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
        ioservid_t id;
        unsigned int vcpus;
        if (!dm) { perror("xendevicemodel_open"); return 2; }
        xendevicemodel_nr_vcpus(dm, DOM, &vcpus);
        xendevicemodel_create_ioreq_server(dm, DOM, HVM_IOREQSRV_BUFIOREQ_OFF, &id);
        xendevicemodel_map_io_range_to_ioreq_server(dm, DOM, id, 0, 0xa18, 0xa1f);
        xendevicemodel_unmap_io_range_from_ioreq_server(dm, DOM, id, 0, 0xa18, 0xa1f);
        xendevicemodel_set_ioreq_server_state(dm, DOM, id, 1);
        xendevicemodel_destroy_ioreq_server(dm, DOM, id);
        xendevicemodel_set_isa_irq_level(dm, DOM, 7, 1);
        xendevicemodel_set_irq_level(dm, DOM, 33, 1);
        xendevicemodel_restrict(dm, DOM);
        xendevicemodel_close(dm);
        xenevtchn_handle *e = xenevtchn_open(NULL, 0);
        if (!e) { perror("xenevtchn_open"); return 2; }
        xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(e, DOM, 2);
        xenevtchn_notify(e, p);
        xenevtchn_unbind(e, p);
        xenevtchn_close(e);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "misc")) {
        xc_interface *xch = xc_interface_open(NULL, NULL, 0);
        xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
        if (!xch || !fm) { perror("open"); return 2; }
        xc_version(xch, XENVER_version, NULL);
        xc_domain_iomem_permission(xch, DOM, 0x100000, 0x20000, 1);
        xen_pfn_t extents[3] = { 0x400000, 0x400200, 0x400400 };
        xc_domain_decrease_reservation(xch, DOM, 3, 9, extents);
        xen_pfn_t mailbox = 0xfe000;
        xc_domain_populate_physmap_exact(xch, DOM, 1, 0, 0, &mailbox);
        void *addr = NULL;
        xenforeignmemory_resource_handle *res = xenforeignmemory_map_resource(fm, DOM, XENMEM_resource_ioreq_server, 1,
            XENMEM_resource_ioreq_server_frame_ioreq(0), 1, &addr, PROT_READ | PROT_WRITE, 0);
        if (res) xenforeignmemory_unmap_resource(fm, res);
        xen_pfn_t gfn = 0xfe000;
        int err = 0;
        void *page = xenforeignmemory_map(fm, DOM, PROT_READ | PROT_WRITE, 1, &gfn, &err);
        if (page) xenforeignmemory_unmap(fm, page, 1);
        xenforeignmemory_close(fm);
        xc_interface_close(xch);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top\n");
    return 2;
}
