namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>Receives coalesced runs in file order.</summary>
internal interface IRunSink
{
    void Add(in ResolvedRun run);
}
