namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Sink for a second resolution pass: compares each run with the first pass's list instead of
/// storing it, so verifying costs no memory.
/// </summary>
internal sealed class RunComparer : IRunSink
{
    private readonly RunList _expected;
    private int _next;

    public RunComparer(RunList expected) => _expected = expected;

    /// <summary>The first run that differs, as (first pass, second pass); null while all agree.</summary>
    public (ResolvedRun? First, ResolvedRun? Second)? Mismatch { get; private set; }

    public void Add(in ResolvedRun run)
    {
        if (Mismatch is null && (_next >= _expected.Count || _expected[_next] != run))
            Mismatch = (_next < _expected.Count ? _expected[_next] : null, run);
        _next++;
    }

    /// <summary>Checks that the second pass produced no fewer runs than the first.</summary>
    public void Finish()
    {
        if (Mismatch is null && _next != _expected.Count)
            Mismatch = (_expected[_next], null);
    }
}
