namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>One reason a backing was refused, with the file offset range it concerns.</summary>
/// <param name="Reason">The kind of problem.</param>
/// <param name="Start">First file offset concerned (0 for whole-backing problems).</param>
/// <param name="End">File offset one past the range (the size for whole-backing problems).</param>
/// <param name="Detail">What exactly was found, for a person.</param>
public sealed record Refusal(RefusalReason Reason, ulong Start, ulong End, string Detail)
{
    /// <summary>One line naming the reason and the file offset range.</summary>
    public override string ToString() => $"{Reason}: file offset [0x{Start:x}, 0x{End:x}): {Detail}";
}
