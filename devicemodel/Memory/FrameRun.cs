namespace XenVnvdimm.DeviceModel.Memory;

/// <summary>Page size class of a <see cref="FrameRun"/>: the largest x86 page size it could be mapped with.</summary>
public enum FrameAlignment
{
    /// <summary>4 KiB pages only.</summary>
    Page4K = 0,

    /// <summary>Both ends 2 MiB aligned and at least one 2 MiB page long.</summary>
    Page2M = 9,

    /// <summary>Both ends 1 GiB aligned and at least one 1 GiB page long.</summary>
    Page1G = 18,
}

/// <summary>
/// One contiguous run of a scatter list: <paramref name="Count"/> 4 KiB frames starting at guest frame
/// <paramref name="Gfn"/>, backed by machine frames starting at <paramref name="Mfn"/>.
/// </summary>
/// <param name="Gfn">First guest frame number.</param>
/// <param name="Mfn">First machine frame number.</param>
/// <param name="Count">Number of 4 KiB frames.</param>
public readonly record struct FrameRun(ulong Gfn, ulong Mfn, ulong Count)
{
    /// <summary>Frames in a 2 MiB page.</summary>
    public const ulong FramesPer2M = 1UL << 9;

    /// <summary>Frames in a 1 GiB page.</summary>
    public const ulong FramesPer1G = 1UL << 18;

    /// <summary>
    /// The largest page size both <see cref="Gfn"/> and <see cref="Mfn"/> are aligned to and that
    /// <see cref="Count"/> covers at least once. Only the start matters: a superpage-aligned start
    /// lets the hypervisor use superpages for the aligned body of the run.
    /// </summary>
    public FrameAlignment Alignment
    {
        get
        {
            ulong both = Gfn | Mfn;
            if ((both & (FramesPer1G - 1)) == 0 && Count >= FramesPer1G)
                return FrameAlignment.Page1G;
            if ((both & (FramesPer2M - 1)) == 0 && Count >= FramesPer2M)
                return FrameAlignment.Page2M;
            return FrameAlignment.Page4K;
        }
    }

    /// <summary>One past the last guest frame.</summary>
    public ulong GfnEnd => Gfn + Count;

    /// <summary>One past the last machine frame.</summary>
    public ulong MfnEnd => Mfn + Count;
}
