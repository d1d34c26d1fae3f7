using System.Diagnostics;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary><c>xen-vnvdimm xenstored</c> listening on a test's own socket; killed (with its process tree) on dispose.</summary>
internal sealed class EmbeddedXenstored : IDisposable
{
    private readonly Process _process;

    private EmbeddedXenstored(Process process) => _process = process;

    /// <summary>Starts xenstored on <paramref name="socket"/> and waits until the socket exists.</summary>
    public static async Task<EmbeddedXenstored> StartAsync(string socket)
    {
        var xenstored = new EmbeddedXenstored(Start(null, "xenstored", "--socket", socket));
        try
        {
            await WaitFor(() => File.Exists(socket), "xenstored");
            return xenstored;
        }
        catch
        {
            xenstored.Dispose();
            throw;
        }
    }

    private bool _disposed;

    /// <summary>Kills it (a test may do so early, to see a companion survive xenstored's death); idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
