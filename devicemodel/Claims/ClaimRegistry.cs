using System.Text.Json;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Pinning;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// Host-wide record of which machine frames are mapped into which domain, kept on disk (one file per
/// domain and slot) so it outlives every companion process: the same frames never reach two guests,
/// or one guest twice, whatever path, partition, device node alias or hard link names them. Claims
/// and releases happen under one lock file, so two companions racing cannot both claim. A claim goes
/// only when its domain is gone (<see cref="IDomainLiveness"/>): reaped by the next claim and by
/// <c>xen-vnvdimm gc</c>, clearing the immutable flag a companion set on its file.
/// </summary>
public sealed class ClaimRegistry
{
    /// <summary>The registry's directory on a Xen host.</summary>
    public const string DefaultDirectory = "/run/xen-vnvdimm/claims";

    private const string LockFile = ".lock";
    private const string Suffix = ".claim";


    private readonly IDomainLiveness _liveness;
    private readonly Action<string> _log;

    /// <summary>A registry in <paramref name="directory"/> (created 0700 when missing).</summary>
    /// <param name="directory">Where claims live.</param>
    /// <param name="liveness">Tells a live domain from a gone one.</param>
    /// <param name="log">Receives one line per reaped claim or unpinned file.</param>
    public ClaimRegistry(string directory, IDomainLiveness liveness, Action<string>? log = null)
    {
        Directory = Path.GetFullPath(directory);
        _liveness = liveness;
        _log = log ?? (_ => { });
    }

    /// <summary>The registry's directory.</summary>
    public string Directory { get; }

    /// <summary>
    /// Claims <paramref name="request"/>'s frames for its domain and slot, after reaping the claims of
    /// domains that are gone. The domain's own claim for the slot with the same frames and backing is
    /// re-used (a re-attach). With <paramref name="pin"/> (a file backing held open by its resolution)
    /// the file is made immutable, and whether this call set the flag is recorded before it is set.
    /// </summary>
    /// <returns>The claim as recorded, and whether it already existed (re-used, so not this caller's to roll back).</returns>
    /// <exception cref="UserErrorException">Another claim holds some of the frames, naming the frames and the holder; or the file cannot be pinned.</exception>
    public (FrameClaim Claim, bool Reused) Claim(FrameClaim request, BackingResolution? pin = null)
    {
        request = request with { Frames = FrameClaim.Normalize(request.Frames) };
        using var held = RegistryLock();
        ReapLocked();
        var all = LoadLocked();
        var own = all.FirstOrDefault(c => c.Domid == request.Domid && c.Slot == request.Slot);
        if (own is not null && own.SameFrames(request) && own.Backing == request.Backing)
            return (Reuse(own, pin), true);
        if (FirstOverlap(all, request) is { } clash)
            throw new UserErrorException($"{request.Backend}: frames {clash.Range} are mapped into {clash.Holder.Holder}; refusing to map them into dom{request.Domid} slot {request.Slot}");
        if (own is not null)
            throw new UserErrorException($"{request.Backend}: dom{request.Domid} slot {request.Slot} already holds frames {own.Frames[0]}… of backend {own.Backend}");

        var claim = request;
        if (pin is { Kind: BackingKind.File })
        {
            bool already = ImmutablePin.IsSet(pin);
            claim = claim with { PinnedPath = SysfsCanonical(pin.Path), PinnedByUs = !already };
        }
        Write(claim); // recorded before the flag is set: a crash in between clears a flag nobody set, never leaves ours behind
        if (pin is { Kind: BackingKind.File })
        {
            try
            {
                ImmutablePin.Pin(pin);
            }
            catch
            {
                File.Delete(Path.Combine(Directory, claim.FileName));
                throw;
            }
        }
        return (claim, false);
    }

    /// <summary>
    /// Drops the claims of <paramref name="domid"/> (one slot, or all) and clears the immutable flag of
    /// each file a companion pinned that no remaining claim uses. For a domain that is gone, and for a
    /// rolled-back start or hot-add the guest never saw.
    /// </summary>
    /// <returns>One line per claim dropped or file unpinned.</returns>
    public List<string> Release(ushort domid, int? slot = null)
    {
        using var held = RegistryLock();
        return ReleaseLocked(LoadLocked(), c => c.Domid == domid && (slot is null || c.Slot == slot));
    }

    /// <summary>Drops every claim whose domain is gone (and unpins what they pinned).</summary>
    /// <returns>One line per claim dropped or file unpinned.</returns>
    public List<string> Reap()
    {
        using var held = RegistryLock();
        return ReapLocked();
    }

    /// <summary>Every claim, ordered by domain and slot.</summary>
    public List<FrameClaim> List()
    {
        using var held = RegistryLock();
        return LoadLocked();
    }

    private FrameClaim Reuse(FrameClaim own, BackingResolution? pin)
    {
        if (pin is not { Kind: BackingKind.File } || ImmutablePin.IsSet(pin))
            return own;
        // The flag went while the domain kept the frames (chattr -i by hand): pinned again, and ours to clear now.
        var updated = own with { PinnedByUs = true, PinnedPath = SysfsCanonical(pin.Path) };
        Write(updated);
        ImmutablePin.Pin(pin);
        _log($"{pin.Path}: the immutable flag was missing on re-attach to dom{own.Domid} slot {own.Slot}; set it again");
        return updated;
    }

    private List<string> ReapLocked()
    {
        var all = LoadLocked();
        var dead = all.Select(c => c.Domid).Distinct().Where(d => !_liveness.IsAlive(d)).ToHashSet();
        return dead.Count == 0 ? [] : ReleaseLocked(all, c => dead.Contains(c.Domid));
    }

    private List<string> ReleaseLocked(List<FrameClaim> all, Func<FrameClaim, bool> which)
    {
        var lines = new List<string>();
        var going = all.Where(which).ToList();
        var staying = all.Except(going).ToList();
        foreach (var c in going)
        {
            // Unpinned only when ours, and only once no remaining claim maps the same file.
            if (c.PinnedByUs && c.PinnedPath is { } path && staying.All(s => s.Backing != c.Backing))
                lines.Add(ImmutablePin.Unpin(path, c.Backing));
            File.Delete(Path.Combine(Directory, c.FileName));
            lines.Add($"released frames {string.Join(",", c.Frames.Take(4))}{(c.Frames.Count > 4 ? "…" : "")} of {c.Holder}");
        }
        foreach (string l in lines)
            _log(l);
        return lines;
    }

    private static (MfnRange Range, FrameClaim Holder)? FirstOverlap(List<FrameClaim> all, FrameClaim request)
    {
        // Every claimed range sorted by start: one binary search per requested range.
        var ranges = new List<(MfnRange Range, FrameClaim Holder)>();
        foreach (var c in all)
            if (!(c.Domid == request.Domid && c.Slot == request.Slot))
                foreach (var r in c.Frames)
                    ranges.Add((r, c));
        ranges.Sort((a, b) => a.Range.First.CompareTo(b.Range.First));
        // Claimed ranges never overlap each other, so their ends are sorted too.
        foreach (var want in request.Frames)
        {
            int lo = 0, hi = ranges.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (ranges[mid].Range.End <= want.First)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < ranges.Count && ranges[lo].Range.First < want.End)
            {
                var held = ranges[lo].Range;
                ulong first = Math.Max(held.First, want.First), end = Math.Min(held.End, want.End);
                return (new MfnRange(first, end - first), ranges[lo].Holder);
            }
        }
        return null;
    }

    private List<FrameClaim> LoadLocked()
    {
        var list = new List<FrameClaim>();
        foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "*" + Suffix))
        {
            FrameClaim? c;
            try
            {
                c = JsonSerializer.Deserialize(RegistryFiles.Read(file), FrameClaimJson.Default.FrameClaim);
            }
            catch (JsonException e)
            {
                // Unknown frames: refuse everything rather than guess (the admin removes it once its domain is gone).
                throw new UserErrorException($"claim file {file} cannot be read ({e.Message}); remove it once its domain is gone");
            }
            if (c is null || c.FileName != Path.GetFileName(file))
                throw new UserErrorException($"claim file {file} does not hold the claim its name says; remove it once its domain is gone");
            list.Add(c);
        }
        return [.. list.OrderBy(c => c.Domid).ThenBy(c => c.Slot)];
    }

    private void Write(FrameClaim claim)
        => RegistryFiles.Replace(Path.Combine(Directory, claim.FileName), JsonSerializer.SerializeToUtf8Bytes(claim, FrameClaimJson.Default.FrameClaim));

    private Microsoft.Win32.SafeHandles.SafeFileHandle RegistryLock()
    {
        RegistryFiles.EnsureDirectory(Directory);
        return RegistryFiles.Lock(Path.Combine(Directory, LockFile));
    }

    // The path recorded for unpinning: every symlink resolved, so the file is found again by a path
    // that O_NOFOLLOW accepts.
    private static string SysfsCanonical(string path) => Backing.Sysfs.SysfsTree.Canonical(path);
}
