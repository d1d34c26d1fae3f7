namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>The current FIT as the guest's _FIT method reads it through the mailbox.</summary>
public interface IFitSource
{
    /// <summary>The NFIT sub-structures, without the 40-byte table header.</summary>
    ReadOnlyMemory<byte> Fit { get; }

    /// <summary>Bumped whenever <see cref="Fit"/> changes (a hot-add).</summary>
    long Generation { get; }
}
