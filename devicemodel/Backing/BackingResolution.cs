using XenVnvdimm.DeviceModel.Backing.Extents;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// The outcome of resolving one backing: where every byte lives, and every reason it may not be used.
/// Holds the backing's lock (when one was taken) until disposed.
/// </summary>
public sealed class BackingResolution : IDisposable
{
    private NativeFile? _lockHolder;

    internal BackingResolution(string path, BackingKind kind, ulong size, NativeFile? lockHolder)
    {
        Path = path;
        Kind = kind;
        Size = size;
        _lockHolder = lockHolder;
    }

    /// <summary>The backing's path.</summary>
    public string Path { get; }

    /// <summary>File, pmem device or dax device.</summary>
    public BackingKind Kind { get; }

    /// <summary>Size in bytes of the guest-visible range.</summary>
    public ulong Size { get; }

    /// <summary>Filesystem type of a file backing.</summary>
    public string? FilesystemType { get; internal set; }

    /// <summary>Mount point of a file backing's filesystem.</summary>
    public string? MountPoint { get; internal set; }

    /// <summary>Filesystem block size of a file backing.</summary>
    public ulong? FilesystemBlockSize { get; internal set; }

    /// <summary>Whether the filesystem is mounted with DAX always on.</summary>
    public bool? DaxMount { get; internal set; }

    /// <summary>The block device under a file or pmem backing.</summary>
    public BlockDevice? Device { get; internal set; }

    /// <summary>The pmem namespace, when the backing is on one.</summary>
    public NdNamespace? Namespace { get; internal set; }

    /// <summary>SPA mapping; null when the backing is not on pmem and no base was assumed.</summary>
    public SpaMap? Spa { get; internal set; }

    /// <summary>True when <see cref="Spa"/> comes from <see cref="BackingOptions.AssumeSpaBase"/>.</summary>
    public bool SpaAssumed { get; internal set; }

    /// <summary>Required size alignment.</summary>
    public ulong Alignment { get; internal set; }

    /// <summary>Physically contiguous runs in file order.</summary>
    public RunList Runs { get; } = new();

    private readonly List<Refusal> _refusals = [];

    /// <summary>Refusals (at most a thousand kept; see <see cref="RefusalTotal"/>).</summary>
    public IReadOnlyList<Refusal> Refusals => _refusals;

    /// <summary>Number of refusals, including any not kept.</summary>
    public long RefusalTotal { get; internal set; }

    /// <summary>FIEMAP records read in the first pass.</summary>
    public long Extents { get; internal set; }

    /// <summary>FIEMAP ioctls issued over all passes.</summary>
    public int FiemapCalls { get; internal set; }

    /// <summary>Time of the first FIEMAP pass (building the list).</summary>
    public TimeSpan FirstPassTime { get; internal set; }

    /// <summary>Time of the second FIEMAP pass (verifying the list).</summary>
    public TimeSpan VerifyPassTime { get; internal set; }

    /// <summary>Bytes written by zero-filling unwritten extents (0 unless asked for).</summary>
    public ulong ZeroFilledBytes { get; internal set; }

    /// <summary>The backing's inode (file) or device number, whatever path named it.</summary>
    public Pinning.BackingIdentity Identity { get; internal set; }

    /// <summary>The open backing this resolution holds (with its lock), or null when none is held.</summary>
    internal NativeFile? OpenFile => _lockHolder;

    /// <summary>Pinning status of a file backing.</summary>
    public PinningReport? Pinning { get; internal set; }

    /// <summary>True when the backing may be mapped into a guest.</summary>
    public bool Accepted => RefusalTotal == 0 && Spa is not null;

    /// <summary>The scatter list as frame runs; gfn 0 is the vNVDIMM's first page.</summary>
    public IEnumerable<FrameRun> FrameRuns()
    {
        if (Spa is not { } spa)
            throw new InvalidOperationException($"{Path}: no SPA is known for the backing's device");
        foreach (var run in Runs)
            yield return run.ToFrameRun(spa.DeviceSpaBase);
    }

    /// <summary>Totals; without an SPA the device offsets stand in for machine addresses.</summary>
    public RunStatistics Statistics()
        => RunStatistics.Of(Runs.Select(r => r.ToFrameRun(Spa?.DeviceSpaBase ?? 0)));

    /// <summary>Throws a <see cref="UserErrorException"/> naming the first refusal unless accepted.</summary>
    public void EnsureAccepted()
    {
        if (Accepted)
            return;
        var first = Refusals.FirstOrDefault();
        string more = RefusalTotal > 1 ? $" (and {RefusalTotal - 1} more)" : "";
        throw new UserErrorException($"{Path}: refused: {first}{more}");
    }

    internal void AddRefusal(Refusal refusal)
    {
        RefusalTotal++;
        if (_refusals.Count < RefusalList.Limit)
            _refusals.Add(refusal);
    }

    /// <summary>Releases the backing's lock.</summary>
    public void Dispose()
    {
        _lockHolder?.Dispose();
        _lockHolder = null;
    }
}
