using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>
/// Serves the guest's _DSM, _LSI/_LSR/_LSW and _FIT calls arriving through the mailbox page of
/// <see cref="P"/>. The page is shared with an untrusted guest: a request is copied out of the
/// page before anything looks at it, every field is validated on the copy, nothing outside the
/// page is read or written, and guest input never makes this class throw.
/// <para>
/// Status choices (codes from <see cref="P"/>): unknown command, unknown or mismatched family,
/// unsupported function, label call on a device without labels → 1; unknown handle → 2 (label
/// commands and Intel functions on handle 0 too: the root has no labels); wrong revision, input
/// length above the data area, truncated input, offset or length outside the label area, length
/// above max transfer, FIT offset past the end → 3; label store failure → 4 (HW error).
/// _DSM function 0 always answers with a function bitmap — a status there would be read as bits —
/// so it is Buffer {0x00} ("nothing but function 0", ACPI _DSM rules, as QEMU answers) for the
/// root (no ARS), for devices without labels, for unknown handles, families and revisions, and
/// Buffer {0x71} (functions 0, 4, 5, 6) for an Intel-family device with labels.
/// </para>
/// </summary>
public sealed partial class DsmService
{
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, DsmDevice> _devices = [];
    private readonly IFitSource _fit;
    private readonly ILogger _logger;

    // Private copies of the request input and of the answer, reused across requests (under _gate).
    private readonly byte[] _input = new byte[P.DataSize];
    private readonly byte[] _output = new byte[P.DataSize];

    // FIT generation at the guest's last read at offset 0; null before the first (QEMU's fit_dirty).
    private long? _fitGenerationSeen;

    /// <summary>Creates the service for the given devices and FIT.</summary>
    /// <exception cref="ArgumentException">A device has handle 0 or a handle appears twice.</exception>
    public DsmService(IEnumerable<DsmDevice> devices, IFitSource fit, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(devices);
        _fit = fit ?? throw new ArgumentNullException(nameof(fit));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var d in devices)
            AddDevice(d);
    }

    /// <summary>Request and status counters.</summary>
    public DsmStatistics Statistics { get; } = new();

    /// <summary>
    /// Marks the page as served: state idle, output length 0, then the signature. The AML checks the
    /// signature before every call, so it is written last.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="page"/> is shorter than a mailbox page.</exception>
    public void Publish(Span<byte> page)
    {
        CheckPage(page);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.OutputLengthOffset..], 0);
        MailboxState.Write(page, P.StateIdle);
        MailboxState.WriteSignature(page, P.Signature);
    }

    /// <summary>
    /// Serves the request in <paramref name="page"/> if its state is Request: writes the output
    /// and its length, then sets the state to Response, last, with release ordering.
    /// </summary>
    /// <returns>True when a request was served; false when the state was not Request.</returns>
    /// <exception cref="ArgumentException"><paramref name="page"/> is shorter than a mailbox page (a host bug, never guest input).</exception>
    public bool HandleDoorbell(Span<byte> page)
    {
        CheckPage(page);
        lock (_gate)
        {
            // Checked under the lock: two doorbells racing on one request (several vCPUs, or a
            // guest ringing twice) serve it once, so a label write is never applied twice.
            if (MailboxState.Read(page) != P.StateRequest)
            {
                Statistics.CountIdle();
                return false;
            }
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var request = MailboxRequest.Copy(page, _input);
            var answer = Dispatch(request, _output);
            _output.AsSpan(0, answer.Length).CopyTo(page.Slice(P.DataOffset, answer.Length));
            BinaryPrimitives.WriteUInt32LittleEndian(page[P.OutputLengthOffset..], (uint)answer.Length);
            MailboxState.Write(page, P.StateResponse);
            Statistics.Count(request.Command, answer.Status, DsmStatistics.OperationOf(request.Command, request.Handle, request.Family, request.Function),
                             System.Diagnostics.Stopwatch.GetTimestamp() - start);
            // Guarded: a guest spamming bad requests must not cost an argument array per call.
            if (answer.Status is not P.StatusSuccess and not P.StatusFitChanged && _logger.IsEnabled(LogLevel.Debug))
                _logger.LogDebug("DSM request command {Command} handle 0x{Handle:x} family {Family} function {Function} revision {Revision}: status {Status}",
                    request.Command, request.Handle, request.Family, request.Function, request.Revision, answer.Status);
        }
        return true;
    }

    /// <summary>Adds a device (hot-add). Add it before the FIT that names it is published.</summary>
    /// <exception cref="ArgumentException">The handle is 0 or already present.</exception>
    public void AddDevice(DsmDevice d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.Handle == 0)
            throw new ArgumentException("device handle 0 is the NVDIMM root device", nameof(d));
        lock (_gate)
        {
            if (!_devices.TryAdd(d.Handle, d))
                throw new ArgumentException($"device handle 0x{d.Handle:x} is already served", nameof(d));
        }
    }

    private static void CheckPage(ReadOnlySpan<byte> page)
    {
        if (page.Length < P.PageSize)
            throw new ArgumentException($"the mailbox page is {page.Length} bytes, not {P.PageSize}", nameof(page));
    }
}
