using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>How a backing's advisory lock is treated.</summary>
public enum BackingLockMode
{
    /// <summary>Only report whether another process holds the lock (inspection).</summary>
    Probe,

    /// <summary>Take the exclusive lock and hold it until the resolution is disposed (attaching to a guest).</summary>
    Exclusive,
}

/// <summary>Options of one backing resolution.</summary>
public sealed record BackingOptions
{
    /// <summary>
    /// SPA of byte 0 of a device that is not pmem (a loop device in tests, or the simulated hypervisor):
    /// without it such a backing is refused.
    /// </summary>
    public ulong? AssumeSpaBase { get; init; }

    /// <summary>Write zeros through the file over UNWRITTEN extents, then resolve again. The only path that writes to a backing.</summary>
    public bool ZeroUnwritten { get; init; }

    /// <summary>Lock handling.</summary>
    public BackingLockMode Lock { get; init; } = BackingLockMode.Probe;

    /// <summary>Required size alignment; null means the namespace's alignment, at least 2 MiB for files.</summary>
    public ulong? Alignment { get; init; }

    /// <summary>The sysfs tree to walk.</summary>
    public SysfsTree Sysfs { get; init; } = SysfsTree.System;

    /// <summary>The mount table to read.</summary>
    public string MountInfoPath { get; init; } = "/proc/self/mountinfo";

    /// <summary>The active swap table to read (a pmem device used as swap is refused).</summary>
    public string SwapsPath { get; init; } = "/proc/swaps";

    /// <summary>Where block device nodes live (raw namespaces are read here for a stray info block).</summary>
    public string DevDirectory { get; init; } = "/dev";

    /// <summary>Extents per FIEMAP call.</summary>
    public int FiemapBatch { get; init; } = Extents.FiemapReader.DefaultBatch;

    /// <summary>Test seam: runs between the two FIEMAP passes (a deterministic "file changed meanwhile").</summary>
    internal Action? BetweenPasses { get; init; }
}
