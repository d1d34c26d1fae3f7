/*
 * Reference encodings: for each operation of the companion, the bytes a libxc/libxendevicemodel-style
 * caller passes to the kernel, built with Xen's headers. Pointer fields are zero (addresses differ).
 * Output: one line per case, "name ioctl main [nested...]", all hex.
 */
#include "xenabi.h"

#define DOM 7

static void hex(const void *p, size_t n)
{
    putchar(' ');
    for (size_t i = 0; i < n; i++)
        printf("%02x", ((const unsigned char *)p)[i]);
}

static void begin(const char *name, unsigned long ioctl_nr) { printf("%s %lx", name, ioctl_nr); }
static void end(void) { putchar('\n'); }

static void domctl_case(const char *name, struct xen_domctl *d)
{
    struct privcmd_hypercall h;
    memset(&h, 0, sizeof(h));
    h.op = __HYPERVISOR_domctl; /* arg[0] = &domctl: a pointer */
    begin(name, IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(d, sizeof(*d)); end();
}

static void dmop_case(const char *name, struct xen_dm_op *op)
{
    struct privcmd_dm_op o;
    struct privcmd_dm_op_buf b;
    memset(&o, 0, sizeof(o)); memset(&b, 0, sizeof(b));
    o.dom = DOM; o.num = 1;           /* ubufs: a pointer */
    b.size = sizeof(*op);             /* uptr: a pointer */
    begin(name, IOCTL_PRIVCMD_DM_OP); hex(&o, sizeof(o)); hex(&b, sizeof(b)); hex(op, sizeof(*op)); end();
}

int main(void)
{
    struct xen_domctl d;

    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_iomem_permission; d.interface_version = XEN_DOMCTL_INTERFACE_VERSION; d.domain = DOM;
    d.u.iomem_permission.first_mfn = 0x100000; d.u.iomem_permission.nr_mfns = 0x20000;
    d.u.iomem_permission.allow_access = 1;
    domctl_case("iomem_permission_allow", &d);
    d.u.iomem_permission.allow_access = 0;
    domctl_case("iomem_permission_deny", &d);

    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_memory_mapping; d.interface_version = XEN_DOMCTL_INTERFACE_VERSION; d.domain = DOM;
    d.u.memory_mapping.first_gfn = 0x400000; d.u.memory_mapping.first_mfn = 0x100000;
    d.u.memory_mapping.nr_mfns = 0x200; d.u.memory_mapping.add_mapping = DPCI_ADD_MAPPING;
    domctl_case("memory_mapping_add", &d);
    d.u.memory_mapping.add_mapping = DPCI_REMOVE_MAPPING;
    domctl_case("memory_mapping_remove", &d);

    {
        /* Is the window populated? gfns in, XEN_DOMCTL_PFINFO_* types out (libxc's xc_get_pfn_type_batch). */
        struct privcmd_hypercall h;
        xen_pfn_t gfns[3] = { 0x140000, 0x140001, 0x140002 };
        memset(&h, 0, sizeof(h));
        h.op = __HYPERVISOR_domctl;
        memset(&d, 0, sizeof(d));
        d.cmd = XEN_DOMCTL_getpageframeinfo3; d.interface_version = XEN_DOMCTL_INTERFACE_VERSION; d.domain = DOM;
        d.u.getpageframeinfo3.num = 3; /* array: a pointer */
        begin("getpageframeinfo3", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(&d, sizeof(d));
        hex(gfns, sizeof(gfns)); end();
    }
    {
        struct privcmd_hypercall h;
        struct xen_memory_domain m;
        memset(&h, 0, sizeof(h)); memset(&m, 0, sizeof(m));
        h.op = __HYPERVISOR_memory_op; h.arg[0] = XENMEM_maximum_gpfn; /* arg[1] = &m */
        m.domid = DOM;
        begin("maximum_gpfn", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(&m, sizeof(m)); end();
    }
    {
        struct privcmd_hypercall h;
        struct xen_pmem_map m;
        memset(&h, 0, sizeof(h)); memset(&m, 0, sizeof(m));
        h.op = __HYPERVISOR_memory_op; h.arg[0] = XENMEM_populate_pmem_map_series; /* arg[1] = &m */
        m.domid = DOM; m.mfn = 0x100000; m.gfn = 0x400000; m.nr_mfns = 0x40000; m.type = XEN_PMEM_TYPE_DATA;
        begin("populate_pmem_map", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(&m, sizeof(m)); end();
    }
    {
        struct privcmd_hypercall h;
        struct xen_memory_reservation r;
        xen_pfn_t extents[3] = { 0x400000, 0x400200, 0x400400 };
        memset(&h, 0, sizeof(h)); memset(&r, 0, sizeof(r));
        h.op = __HYPERVISOR_memory_op; h.arg[0] = XENMEM_decrease_reservation; /* arg[1] = &r */
        r.nr_extents = 3; r.extent_order = 9; r.mem_flags = 0; r.domid = DOM; /* extent_start: a pointer */
        begin("decrease_reservation", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(&r, sizeof(r));
        hex(extents, sizeof(extents)); end();
    }
    {
        /* The DSM mailbox page: one order-0 extent of fresh RAM (libxc's populate_physmap_exact). */
        struct privcmd_hypercall h;
        struct xen_memory_reservation r;
        xen_pfn_t extents[1] = { 0xfe000 };
        memset(&h, 0, sizeof(h)); memset(&r, 0, sizeof(r));
        h.op = __HYPERVISOR_memory_op; h.arg[0] = XENMEM_populate_physmap; /* arg[1] = &r */
        r.nr_extents = 1; r.extent_order = 0; r.mem_flags = 0; r.domid = DOM; /* extent_start: a pointer */
        begin("populate_physmap", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); hex(&r, sizeof(r));
        hex(extents, sizeof(extents)); end();
    }
    {
        struct privcmd_hypercall h;
        memset(&h, 0, sizeof(h));
        h.op = __HYPERVISOR_xen_version; h.arg[0] = XENVER_version;
        begin("xen_version", IOCTL_PRIVCMD_HYPERCALL); hex(&h, sizeof(h)); end();
    }

    struct xen_dm_op op;
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_nr_vcpus;
    dmop_case("dm_nr_vcpus", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_create_ioreq_server;
    op.u.create_ioreq_server.handle_bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF;
    dmop_case("dm_create_ioreq_server", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_map_io_range_to_ioreq_server;
    op.u.map_io_range_to_ioreq_server.id = 1; op.u.map_io_range_to_ioreq_server.type = XEN_DMOP_IO_RANGE_PORT;
    op.u.map_io_range_to_ioreq_server.start = 0xa18; op.u.map_io_range_to_ioreq_server.end = 0xa1f;
    dmop_case("dm_map_io_range", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_unmap_io_range_from_ioreq_server;
    op.u.unmap_io_range_from_ioreq_server.id = 1; op.u.unmap_io_range_from_ioreq_server.type = XEN_DMOP_IO_RANGE_PORT;
    op.u.unmap_io_range_from_ioreq_server.start = 0xa18; op.u.unmap_io_range_from_ioreq_server.end = 0xa1f;
    dmop_case("dm_unmap_io_range", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_set_ioreq_server_state;
    op.u.set_ioreq_server_state.id = 1; op.u.set_ioreq_server_state.enabled = 1;
    dmop_case("dm_enable_ioreq_server", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_destroy_ioreq_server;
    op.u.destroy_ioreq_server.id = 1;
    dmop_case("dm_destroy_ioreq_server", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_set_isa_irq_level;
    op.u.set_isa_irq_level.isa_irq = 7; op.u.set_isa_irq_level.level = 1;
    dmop_case("dm_set_isa_irq_level", &op);
    memset(&op, 0, sizeof(op)); op.op = XEN_DMOP_set_irq_level;
    op.u.set_irq_level.irq = 33; op.u.set_irq_level.level = 1;
    dmop_case("dm_set_irq_level", &op);

    {
        struct privcmd_mmap_resource r;
        memset(&r, 0, sizeof(r));
        r.dom = DOM; r.type = XENMEM_resource_ioreq_server; r.id = 1;
        r.idx = XENMEM_resource_ioreq_server_frame_ioreq(0); r.num = 1; /* addr: a pointer */
        begin("mmap_resource", IOCTL_PRIVCMD_MMAP_RESOURCE); hex(&r, sizeof(r)); end();
    }
    {
        struct privcmd_mmapbatch_v2 m;
        xen_pfn_t gfn = 0xfe000;
        memset(&m, 0, sizeof(m));
        m.num = 1; m.dom = DOM; /* addr, arr, err: pointers */
        begin("mmapbatch_v2", IOCTL_PRIVCMD_MMAPBATCH_V2); hex(&m, sizeof(m)); hex(&gfn, sizeof(gfn)); end();
    }
    {
        domid_t dom = DOM;
        begin("restrict", IOCTL_PRIVCMD_RESTRICT); hex(&dom, sizeof(dom)); end();
    }
    {
        struct ioctl_evtchn_bind_interdomain b = { .remote_domain = DOM, .remote_port = 2 };
        begin("evtchn_bind_interdomain", IOCTL_EVTCHN_BIND_INTERDOMAIN); hex(&b, sizeof(b)); end();
    }
    {
        struct ioctl_evtchn_notify n = { .port = 1 };
        begin("evtchn_notify", IOCTL_EVTCHN_NOTIFY); hex(&n, sizeof(n)); end();
    }
    {
        struct ioctl_evtchn_unbind u = { .port = 1 };
        begin("evtchn_unbind", IOCTL_EVTCHN_UNBIND); hex(&u, sizeof(u)); end();
    }
    {
        struct ioctl_evtchn_restrict_domid r = { .domid = DOM };
        begin("evtchn_restrict_domid", IOCTL_EVTCHN_RESTRICT_DOMID); hex(&r, sizeof(r)); end();
    }
    return 0;
}
