using System.Runtime.CompilerServices;

namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Sink for a second resolution pass: compares each run with the first pass's list instead of
/// storing it, so verifying costs no memory.
/// </summary>
internal sealed class RunComparer : IRunSink
{
    private readonly RunList _expected;
    private RunList.Cursor _cursor = RunList.First;
    private int _next;
    private bool _differs;

    public RunComparer(RunList expected) => _expected = expected;

    /// <summary>The first run that differs, as (first pass, second pass); null while all agree.</summary>
    public (ResolvedRun? First, ResolvedRun? Second)? Mismatch { get; private set; }

    // Out of line and optimized at once, like RunList.Add.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public void Add(in ResolvedRun run)
    {
        int i = _next++;
        if (_differs)
            return;
        if (i < _expected.Count)
        {
            var e = _expected.Read(ref _cursor);
            if (e.FileOffset == run.FileOffset && e.DeviceOffset == run.DeviceOffset && e.Length == run.Length)
                return;
        }
        Differs(i, run);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Differs(int i, in ResolvedRun run)
    {
        _differs = true;
        Mismatch = (i < _expected.Count ? _expected[i] : null, run);
    }

    /// <summary>Checks that the second pass produced no fewer runs than the first.</summary>
    public void Finish()
    {
        if (Mismatch is null && _next != _expected.Count)
            Mismatch = (_expected[_next], null);
    }
}
