namespace XenVnvdimm.Acpi.Ssdt;

/// <summary>
/// The DSM mailbox protocol between the guest's AML and the device model (modelled on QEMU's
/// 0x0A18 protocol, but self-describing and safe with no device model at all).
/// <para>
/// One 4 KiB page at a guest-physical address below 4 GiB (AML may run with 32-bit integers)
/// and one byte-wide doorbell I/O port. All integers are little-endian u32.
/// </para>
/// <list type="number">
/// <item>The device model, when it starts serving, writes <see cref="Signature"/> at
/// <see cref="SignatureOffset"/>. AML that does not find it answers "not supported" at once,
/// so a guest without a device model still boots and sees label-less vNVDIMMs.</item>
/// <item>AML (holding the <c>XVMX</c> mutex) writes command, handle, revision, function,
/// input length and input data, sets <see cref="StateOffset"/> to <see cref="StateRequest"/>,
/// then writes any byte to the doorbell port.</item>
/// <item>The device model validates everything (the guest is untrusted), writes the output
/// data and its length, then sets the state to <see cref="StateResponse"/> last (release
/// ordering). Under Xen the doorbell traps synchronously; under QEMU it is asynchronous.</item>
/// <item>AML polls the state with <c>Stall</c> <see cref="SpinPolls"/> times, then with
/// <c>Sleep (1)</c> at most <see cref="PollIterations"/> times,
/// copies <c>output length</c> bytes out and sets the state back to <see cref="StateIdle"/>.
/// A timeout is answered as "not supported" and the state is reset.</item>
/// </list>
/// Output formats: for <see cref="CommandDsm"/> the buffer the _DSM returns verbatim; for every
/// other command a u32 status followed by the payload.
/// </summary>
public static class MailboxProtocol
{
    /// <summary>Size of the mailbox page.</summary>
    public const int PageSize = 4096;

    /// <summary>"XVND" as a little-endian u32: written by a serving device model.</summary>
    public const uint Signature = 0x444E5658;

    /// <summary>Offset of the signature.</summary>
    public const int SignatureOffset = 0;
    /// <summary>Offset of the request state.</summary>
    public const int StateOffset = 4;
    /// <summary>Offset of the command code.</summary>
    public const int CommandOffset = 8;
    /// <summary>Offset of the NFIT device handle (0 = the root device).</summary>
    public const int HandleOffset = 12;
    /// <summary>Offset of the _DSM revision.</summary>
    public const int RevisionOffset = 16;
    /// <summary>Offset of the function number.</summary>
    public const int FunctionOffset = 20;
    /// <summary>Offset of the input length in bytes.</summary>
    public const int InputLengthOffset = 24;
    /// <summary>Offset of the output length in bytes (written by the device model).</summary>
    public const int OutputLengthOffset = 28;
    /// <summary>Offset of the _DSM UUID family code (<see cref="FamilyRoot"/>, <see cref="FamilyIntel"/>).</summary>
    public const int FamilyOffset = 32;
    /// <summary>Offset of the data area (input, then output).</summary>
    public const int DataOffset = 64;
    /// <summary>Size of the data area.</summary>
    public const int DataSize = PageSize - DataOffset;

    /// <summary>No request in flight.</summary>
    public const uint StateIdle = 0;
    /// <summary>A request is waiting for the device model.</summary>
    public const uint StateRequest = 1;
    /// <summary>The device model has written the response.</summary>
    public const uint StateResponse = 2;

    /// <summary>_DSM pass-through; function 0 of a known UUID family and all its functions.</summary>
    public const uint CommandDsm = 1;
    /// <summary>_LSI: output status, label area size, max transfer.</summary>
    public const uint CommandLabelInfo = 2;
    /// <summary>_LSR: input u32 offset, u32 length; output status, data.</summary>
    public const uint CommandLabelRead = 3;
    /// <summary>_LSW: input u32 offset, u32 length, data; output status.</summary>
    public const uint CommandLabelWrite = 4;
    /// <summary>_FIT chunk read: input u32 offset; output status, up to a data area of FIT bytes.</summary>
    public const uint CommandReadFit = 5;

    /// <summary>_DSM family code for the root device UUID.</summary>
    public const uint FamilyRoot = 0;
    /// <summary>_DSM family code for the Intel NVDIMM family UUID.</summary>
    public const uint FamilyIntel = 1;

    /// <summary>Status: success.</summary>
    public const uint StatusSuccess = 0;
    /// <summary>Status: function not supported.</summary>
    public const uint StatusNotSupported = 1;
    /// <summary>Status: no such device (unknown handle).</summary>
    public const uint StatusNoSuchDevice = 2;
    /// <summary>Status: invalid input parameters.</summary>
    public const uint StatusInvalidInput = 3;
    /// <summary>_FIT read status: the FIT changed since offset 0; restart.</summary>
    public const uint StatusFitChanged = 0x100;

    /// <summary>How many <c>Sleep (1)</c> polls AML waits for a response (after the spin polls).</summary>
    public const int PollIterations = 1000;

    /// <summary>
    /// How many <c>Stall (SpinMicroseconds)</c> polls AML makes before it starts sleeping: a Linux
    /// <c>Sleep (1)</c> lasts a whole timer tick (4 ms at HZ=250), far longer than an asynchronous
    /// device model (the qemu platform) takes to answer, so the first millisecond is spent spinning.
    /// </summary>
    public const int SpinPolls = 100;

    /// <summary>Microseconds of each spin poll.</summary>
    public const int SpinMicroseconds = 10;

    /// <summary>Root device _DSM UUID.</summary>
    public const string RootDsmUuid = "2f10e7a4-9e91-11e4-89d3-123b93f75cba";
    /// <summary>Intel NVDIMM family _DSM UUID.</summary>
    public const string IntelDsmUuid = "4309ac30-0d11-11e4-9191-0800200c9a66";
}
