namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>A Xen operation (hypercall, ioctl, device open) failed with an errno.</summary>
public sealed class XenException : Exception
{
    /// <summary>Creates the exception for <paramref name="operation"/> failing with <paramref name="errno"/>.</summary>
    public XenException(string operation, int errno)
        : base($"{operation}: {Describe(errno)}")
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>What was attempted.</summary>
    public string Operation { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    private static string Describe(int errno) => errno switch
    {
        1 => "EPERM (operation not permitted)",
        2 => "ENOENT (no such entry)",
        3 => "ESRCH (no such domain)",
        7 => "E2BIG (argument too large)",
        12 => "ENOMEM (out of memory)",
        13 => "EACCES (permission denied or interface version mismatch)",
        14 => "EFAULT (bad address)",
        16 => "EBUSY (already mapped)",
        22 => "EINVAL (invalid argument)",
        38 => "ENOSYS (not implemented by this hypervisor)",
        _ => $"errno {errno}",
    };
}
