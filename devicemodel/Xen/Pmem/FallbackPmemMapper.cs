using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>
/// Uses the primary mapper while the hypervisor has it; if it turns out to be unavailable, switches to
/// the fallback for good (logging why).
/// </summary>
internal sealed class FallbackPmemMapper : IPmemMapper
{
    private readonly IPmemMapper _primary;
    private readonly IPmemMapper _fallback;
    private readonly ILogger _log;
    private bool _usingFallback;

    /// <summary>Prefers <paramref name="primary"/>, else <paramref name="fallback"/>.</summary>
    public FallbackPmemMapper(IPmemMapper primary, IPmemMapper fallback, ILogger log)
    {
        _primary = primary;
        _fallback = fallback;
        _log = log;
    }

    /// <inheritdoc/>
    public string Interface => _usingFallback ? _fallback.Interface : _primary.Interface;

    /// <inheritdoc/>
    public void Map(IReadOnlyList<FrameRun> runs)
    {
        if (!_usingFallback)
        {
            try
            {
                _primary.Map(runs);
                return;
            }
            catch (PmemInterfaceUnavailableException e)
            {
                _log.LogWarning("{Reason}; falling back to {Fallback}", e.Message, _fallback.Interface);
                _usingFallback = true;
            }
        }
        _fallback.Map(runs);
    }

    /// <inheritdoc/>
    public void Adopt(string interfaceName, IReadOnlyList<FrameRun> runs)
    {
        // Runs the fallback mapped mean the primary was unavailable then: it still is.
        if (interfaceName == _fallback.Interface)
        {
            _usingFallback = true;
            _fallback.Adopt(interfaceName, runs);
        }
        else
        {
            _primary.Adopt(interfaceName, runs);
        }
    }

    /// <inheritdoc/>
    public void Unmap()
    {
        Exception? error = null;
        foreach (var m in new[] { _fallback, _primary })
        {
            try
            {
                m.Unmap();
            }
            catch (XenException e)
            {
                error ??= e;
            }
        }
        if (error is not null)
            throw error;
    }
}
