/* Prints, as JSON, sizeof/offsetof/bit-field layout/constant values taken from Xen's headers. */
#include "xenabi.h"

static int first;
#define BEGIN(name) do { printf("%s\n    \"%s\": {\"size\": %zu, \"fields\": {", first ? "" : ",", name, sizeof(T)); first = 0; ffirst = 1; } while (0)
#define F(f) do { printf("%s\"%s\": %zu", ffirst ? "" : ", ", #f, offsetof(T, f)); ffirst = 0; } while (0)
#define END() printf("}}")
#define C(name) do { printf("%s\n    \"%s\": %llu", first ? "" : ",", #name, (unsigned long long)(name)); first = 0; } while (0)
#define CV(name, value) do { printf("%s\n    \"%s\": %llu", first ? "" : ",", name, (unsigned long long)(value)); first = 0; } while (0)

static unsigned bitfield_byte(ioreq_t *r) { return ((unsigned char *)r)[30]; }

int main(void)
{
    int ffirst;
    printf("{\n  \"structs\": {");
    first = 1;
#define T struct privcmd_hypercall
    BEGIN("privcmd_hypercall"); F(op); F(arg); END();
#undef T
#define T struct privcmd_mmapbatch_v2
    BEGIN("privcmd_mmapbatch_v2"); F(num); F(dom); F(addr); F(arr); F(err); END();
#undef T
#define T struct privcmd_dm_op_buf
    BEGIN("privcmd_dm_op_buf"); F(uptr); F(size); END();
#undef T
#define T struct privcmd_dm_op
    BEGIN("privcmd_dm_op"); F(dom); F(num); F(ubufs); END();
#undef T
#define T struct privcmd_mmap_resource
    BEGIN("privcmd_mmap_resource"); F(dom); F(type); F(id); F(idx); F(num); F(addr); END();
#undef T
#define T struct ioctl_evtchn_bind_interdomain
    BEGIN("ioctl_evtchn_bind_interdomain"); F(remote_domain); F(remote_port); END();
#undef T
#define T struct ioctl_evtchn_unbind
    BEGIN("ioctl_evtchn_unbind"); F(port); END();
#undef T
#define T struct ioctl_evtchn_notify
    BEGIN("ioctl_evtchn_notify"); F(port); END();
#undef T
#define T struct ioctl_evtchn_restrict_domid
    BEGIN("ioctl_evtchn_restrict_domid"); F(domid); END();
#undef T
#define T struct xen_domctl
    BEGIN("xen_domctl"); F(cmd); F(interface_version); F(domain); F(_pad); F(u); END();
#undef T
#define T struct xen_domctl_iomem_permission
    BEGIN("xen_domctl_iomem_permission"); F(first_mfn); F(nr_mfns); F(allow_access); END();
#undef T
#define T struct xen_domctl_memory_mapping
    BEGIN("xen_domctl_memory_mapping"); F(first_gfn); F(first_mfn); F(nr_mfns); F(add_mapping); F(padding); END();
#undef T
#define T struct xen_domctl_getpageframeinfo3
    BEGIN("xen_domctl_getpageframeinfo3"); F(num); F(array); END();
#undef T
#define T struct xen_domctl_getdomaininfo
    BEGIN("xen_domctl_getdomaininfo"); F(domain); F(pad1); F(flags); F(tot_pages); F(max_pages);
    F(outstanding_pages); F(shr_pages); F(paged_pages); F(shared_info_frame); F(cpu_time);
    F(nr_online_vcpus); F(max_vcpu_id); F(ssidref); F(handle); F(cpupool); F(gpaddr_bits); F(pad2);
    F(arch_config); END();
#undef T
#define T struct xen_memory_domain
    BEGIN("xen_memory_domain"); F(domid); END();
#undef T
#define T struct xen_memory_reservation
    BEGIN("xen_memory_reservation"); F(extent_start); F(nr_extents); F(extent_order); F(mem_flags); F(domid); END();
#undef T
#define T struct xen_mem_acquire_resource
    BEGIN("xen_mem_acquire_resource"); F(domid); F(type); F(id); F(nr_frames); F(pad); F(frame); F(frame_list); END();
#undef T
#define T struct xen_pmem_map
    BEGIN("xen_pmem_map"); F(domid); F(mfn); F(gfn); F(nr_mfns); F(type); END();
#undef T
#define T struct xen_dm_op
    BEGIN("xen_dm_op"); F(op); F(pad); F(u); END();
#undef T
#define T struct xen_dm_op_create_ioreq_server
    BEGIN("xen_dm_op_create_ioreq_server"); F(handle_bufioreq); F(pad); F(id); END();
#undef T
#define T struct xen_dm_op_ioreq_server_range
    BEGIN("xen_dm_op_ioreq_server_range"); F(id); F(pad); F(type); F(start); F(end); END();
#undef T
#define T struct xen_dm_op_set_ioreq_server_state
    BEGIN("xen_dm_op_set_ioreq_server_state"); F(id); F(enabled); F(pad); END();
#undef T
#define T struct xen_dm_op_destroy_ioreq_server
    BEGIN("xen_dm_op_destroy_ioreq_server"); F(id); F(pad); END();
#undef T
#define T struct xen_dm_op_set_isa_irq_level
    BEGIN("xen_dm_op_set_isa_irq_level"); F(isa_irq); F(level); END();
#undef T
#define T struct xen_dm_op_set_irq_level
    BEGIN("xen_dm_op_set_irq_level"); F(irq); F(level); F(pad); END();
#undef T
#define T struct xen_dm_op_nr_vcpus
    BEGIN("xen_dm_op_nr_vcpus"); F(vcpus); END();
#undef T
#define T struct xen_dm_op_buf
    BEGIN("xen_dm_op_buf"); F(h); F(size); END();
#undef T
#define T ioreq_t
    BEGIN("ioreq_t"); F(addr); F(data); F(count); F(size); F(vp_eport); F(_pad0); F(type); END();
#undef T
    printf("\n  },\n  \"constants\": {");
    first = 1;
    C(__HYPERVISOR_memory_op); C(__HYPERVISOR_xen_version); C(__HYPERVISOR_event_channel_op);
    C(__HYPERVISOR_hvm_op); C(__HYPERVISOR_sysctl); C(__HYPERVISOR_domctl); C(__HYPERVISOR_dm_op);
    C(DOMID_SELF); C(DOMID_FIRST_RESERVED);
    C(XEN_EPERM); C(XEN_ENOENT); C(XEN_ESRCH); C(XEN_E2BIG); C(XEN_ENOMEM); C(XEN_EACCES);
    C(XEN_EFAULT); C(XEN_EBUSY); C(XEN_EINVAL); C(XEN_ENOSYS);
    C(XENVER_version);
    C(IOCTL_PRIVCMD_HYPERCALL); C(IOCTL_PRIVCMD_MMAPBATCH_V2); C(IOCTL_PRIVCMD_DM_OP);
    C(IOCTL_PRIVCMD_RESTRICT); C(IOCTL_PRIVCMD_MMAP_RESOURCE);
    C(IOCTL_EVTCHN_BIND_INTERDOMAIN); C(IOCTL_EVTCHN_UNBIND); C(IOCTL_EVTCHN_NOTIFY);
    C(IOCTL_EVTCHN_RESTRICT_DOMID);
    C(XEN_DOMCTL_iomem_permission); C(XEN_DOMCTL_memory_mapping); C(DPCI_ADD_MAPPING);
    C(XEN_DOMCTL_getdomaininfo); C(XEN_DOMINF_dying);
    C(XEN_DOMCTL_getpageframeinfo3); C(XEN_DOMCTL_PFINFO_XTAB); C(XEN_DOMCTL_PFINFO_BROKEN);
    C(XEN_DOMCTL_PFINFO_LTAB_MASK); C(XENMEM_maximum_gpfn);
    C(DPCI_REMOVE_MAPPING); C(XEN_DOMCTL_INTERFACE_VERSION); C(XEN_SYSCTL_INTERFACE_VERSION);
    C(XENMEM_decrease_reservation); C(XENMEM_populate_physmap); C(XENMEM_acquire_resource);
    C(XENMEM_resource_ioreq_server); C(XENMEM_resource_ioreq_server_frame_bufioreq);
    C(XENMEM_populate_pmem_map_series); C(XEN_PMEM_TYPE_DATA); C(XEN_PMEM_TYPE_LABEL);
    CV("XENMEM_resource_ioreq_server_frame_ioreq_0", XENMEM_resource_ioreq_server_frame_ioreq(0));
    C(XEN_DMOP_create_ioreq_server); C(XEN_DMOP_map_io_range_to_ioreq_server);
    C(XEN_DMOP_unmap_io_range_from_ioreq_server); C(XEN_DMOP_set_ioreq_server_state);
    C(XEN_DMOP_destroy_ioreq_server); C(XEN_DMOP_set_isa_irq_level); C(XEN_DMOP_set_irq_level);
    C(XEN_DMOP_nr_vcpus); C(XEN_DMOP_IO_RANGE_PORT); C(XEN_DMOP_IO_RANGE_MEMORY);
    C(XEN_DMOP_IO_RANGE_PCI); C(HVM_IOREQSRV_BUFIOREQ_OFF);
    C(STATE_IOREQ_NONE); C(STATE_IOREQ_READY); C(STATE_IOREQ_INPROCESS); C(STATE_IORESP_READY);
    C(IOREQ_TYPE_PIO); C(IOREQ_TYPE_COPY); C(IOREQ_TYPE_PCI_CONFIG); C(IOREQ_TYPE_TIMEOFFSET);
    C(IOREQ_TYPE_INVALIDATE); C(IOREQ_READ); C(IOREQ_WRITE);
    {
        /* The bit fields of byte 30, found by setting each one alone. */
        ioreq_t r;
        memset(&r, 0, sizeof(r)); r.state = 0xF;
        unsigned state = bitfield_byte(&r);
        int at = -1;
        for (int i = 0; i < (int)sizeof(r); i++) if (((unsigned char *)&r)[i]) at = i;
        memset(&r, 0, sizeof(r)); r.data_is_ptr = 1; unsigned ptr = bitfield_byte(&r);
        memset(&r, 0, sizeof(r)); r.dir = 1; unsigned dir = bitfield_byte(&r);
        memset(&r, 0, sizeof(r)); r.df = 1; unsigned df = bitfield_byte(&r);
        CV("IOREQ_BITS_OFFSET", at);
        CV("IOREQ_STATE_MASK", state); CV("IOREQ_DATA_IS_PTR_MASK", ptr);
        CV("IOREQ_DIR_MASK", dir); CV("IOREQ_DF_MASK", df);
    }
    printf("\n  }\n}\n");
    return 0;
}
