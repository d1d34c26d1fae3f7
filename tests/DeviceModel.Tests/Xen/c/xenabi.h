/* Common includes for the C references: Xen's own public headers from libxen-dev (Xen 4.17). */
#define __XEN_TOOLS__ 1
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/memory.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/sys/privcmd.h>
#include <xen/sys/evtchn.h>

/*
 * The vNVDIMM series' XENMEM_populate_pmem_map argument is not in upstream headers; this is its
 * layout as the series describes it ({domid; mfn; gfn; nr_mfns; type}), with natural C alignment.
 */
struct xen_pmem_map {
    domid_t domid;
    xen_pfn_t mfn;
    xen_pfn_t gfn;
    unsigned int nr_mfns;
    unsigned int type;
};

/* The series' op number (upstream later gave 28 to XENMEM_acquire_resource) and its frame types. */
#define XENMEM_populate_pmem_map_series 28
#define XEN_PMEM_TYPE_DATA  0
#define XEN_PMEM_TYPE_LABEL 1
