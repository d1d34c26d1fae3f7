using XenVnvdimm.Acpi.Aml;
using XenVnvdimm.Acpi.Tables;
using static XenVnvdimm.Acpi.Aml.AmlOp;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Acpi.Ssdt;

/// <summary>
/// Builds the NVDIMM SSDT: <c>\_SB.NVDR</c> (ACPI0012) with root _DSM and _FIT, one NVxx device
/// per pre-declared slot with _ADR, _DSM and _LSI/_LSR/_LSW, and optionally a GED (ACPI0013)
/// whose event notifies NVDR so the guest re-reads _FIT after a hot-add. Every call goes through
/// the mailbox described in <see cref="MailboxProtocol"/>. The AML uses only 32-bit quantities so
/// it runs under DSDT revision 1 (QEMU) as well as revision 2 (Xen's hvmloader).
/// </summary>
public static class NvdimmSsdt
{
    private const string Root = "\\_SB.NVDR";

    private static readonly AmlLocal L0 = new(0), L1 = new(1), L2 = new(2), L3 = new(3),
        L4 = new(4), L5 = new(5), L6 = new(6), L7 = new(7);
    private static readonly AmlArg A0 = new(0), A1 = new(1), A2 = new(2), A3 = new(3),
        A4 = new(4), A5 = new(5), A6 = new(6);

    /// <summary>The SSDT's table header.</summary>
    public static AcpiTableHeader Header => new("SSDT", 2, OemTableId: "NVDIMM");

    /// <summary>Builds the complete, checksummed SSDT.</summary>
    public static byte[] Build(NvdimmSsdtOptions options) => AmlTable.Build(Header, Terms(options));

    /// <summary>The SSDT's top-level AML terms.</summary>
    public static IEnumerable<AmlNode> Terms(NvdimmSsdtOptions o)
    {
        if (o.SlotCount is < 1 or > NvdimmSsdtOptions.MaxSlots)
            throw new ArgumentOutOfRangeException(nameof(o), $"slot count {o.SlotCount} is outside 1..{NvdimmSsdtOptions.MaxSlots}");
        // An empty boot FIT is valid: a guest with no boot devices, only free slots for hot-add.

        var root = new List<AmlNode>
        {
            new AmlNamed("_HID", new AmlString("ACPI0012")),
            new AmlOperationRegion("XVMB", AmlRegionSpace.SystemMemory, o.MailboxGpa, P.PageSize),
            new AmlField("XVMB", AmlFieldAccess.DWord,
                new AmlNamedField("XSIG", 32), new AmlNamedField("XSTA", 32), new AmlNamedField("XCMD", 32),
                new AmlNamedField("XHDL", 32), new AmlNamedField("XREV", 32), new AmlNamedField("XFUN", 32),
                new AmlNamedField("XILN", 32), new AmlNamedField("XOLN", 32), new AmlNamedField("XFAM", 32),
                new AmlReservedField((P.DataOffset - 36) * 8),
                new AmlNamedField("XDAT", P.DataSize * 8)),
            new AmlOperationRegion("XVDB", AmlRegionSpace.SystemIO, (ulong)o.DoorbellPort, 1),
            new AmlField("XVDB", AmlFieldAccess.Byte, new AmlNamedField("XDBL", 8)),
            new AmlMutex("XVMX", 0),
            new AmlNamed("BFIT", new AmlBuffer(o.BootFit)),
            CallMethod(),
            DsmMethod(),
            new AmlMethod("_DSM", 4, true, Return(new AmlCall("XDSM", A0, A1, A2, A3, 0))),
            LabelInfoMethod(), LabelReadMethod(), LabelWriteMethod(),
            FitMethod(),
        };
        for (int slot = 0; slot < o.SlotCount; slot++)
            root.Add(SlotDevice(slot));

        var sb = new List<AmlNode> { new AmlDevice("NVDR", root.ToArray()) };
        if (o.EventIrq is uint irq)
            sb.Add(EventDevice(irq));
        yield return new AmlScope("\\_SB", sb.ToArray());
    }

    private static AmlOp Set(AmlNode target, AmlNode value) => Store(value, target);

    /// <summary>
    /// XCAL (Command, Handle, Revision, Function, Input, InputLength, Family): one mailbox round trip.
    /// Returns the output Buffer, or Integer 0 when no device model answers.
    /// </summary>
    private static AmlMethod CallMethod() => new("XCAL", 7, true,
        new AmlIf(LNotEqual(new AmlName("XSIG"), P.Signature), Return(0)),
        new AmlIf(LGreater(A5, P.DataSize), Return(0)),
        // Acquire returns True on timeout.
        new AmlIf(Acquire("XVMX", 1000), Return(0)),
        Set(new AmlName("XCMD"), A0), Set(new AmlName("XHDL"), A1), Set(new AmlName("XREV"), A2),
        Set(new AmlName("XFUN"), A3), Set(new AmlName("XFAM"), A6), Set(new AmlName("XILN"), A5),
        Set(new AmlName("XDAT"), A4),
        Set(new AmlName("XOLN"), 0),
        Set(new AmlName("XSTA"), P.StateRequest),
        Set(new AmlName("XDBL"), 1),
        Set(L0, 0),
        new AmlWhile(LAnd(LNotEqual(new AmlName("XSTA"), P.StateResponse), LLess(L0, P.SpinPolls)),
            Stall(P.SpinMicroseconds), Increment(L0)),
        Set(L0, 0),
        new AmlWhile(LAnd(LNotEqual(new AmlName("XSTA"), P.StateResponse), LLess(L0, P.PollIterations)),
            Sleep(1), Increment(L0)),
        new AmlIf(LNotEqual(new AmlName("XSTA"), P.StateResponse),
            Set(new AmlName("XSTA"), P.StateIdle), Release("XVMX"), Return(0)),
        Set(L1, new AmlName("XOLN")),
        new AmlIf(LOr(LGreater(L1, P.DataSize), LEqual(L1, 0)),
            Set(new AmlName("XSTA"), P.StateIdle), Release("XVMX"), Return(0)),
        Set(L2, Mid(new AmlName("XDAT"), 0, L1)),
        Set(new AmlName("XSTA"), P.StateIdle),
        Release("XVMX"),
        Return(L2));

    /// <summary>
    /// XDSM (UUID, Revision, Function, Package, Handle): the _DSM of the root (handle 0) and of
    /// every NVDIMM. Unknown UUIDs get Buffer {0}; without a device model function 0 reports no
    /// functions and every other function status 1 (not supported).
    /// </summary>
    private static AmlMethod DsmMethod() => new("XDSM", 5, true,
        Set(L0, 0xFF),
        new AmlIf(LAnd(LEqual(A4, 0), LEqual(A0, AmlBuffer.Uuid(P.RootDsmUuid))), Set(L0, P.FamilyRoot)),
        new AmlIf(LAnd(LNotEqual(A4, 0), LEqual(A0, AmlBuffer.Uuid(P.IntelDsmUuid))), Set(L0, P.FamilyIntel)),
        new AmlIf(LEqual(L0, 0xFF), Return(new AmlBuffer(0x00))),
        // Input: the first element of Arg3 when it is a Package holding a Buffer.
        Set(L1, new AmlBuffer(0x00)),
        Set(L2, 0),
        new AmlIf(LAnd(LEqual(ObjectType(A3), 4), LGreater(SizeOf(A3), 0)),
            Set(L3, DerefOf(Index(A3, 0))),
            new AmlIf(LEqual(ObjectType(L3), 3), Set(L1, L3), Set(L2, SizeOf(L3)))),
        Set(L4, new AmlCall("XCAL", P.CommandDsm, A4, A1, A2, L1, L2, L0)),
        new AmlIf(LEqual(ObjectType(L4), 3), Return(L4)),
        new AmlIf(LEqual(A2, 0), Return(new AmlBuffer(0x00))),
        Return(AmlBuffer.DWord(P.StatusNotSupported)));

    /// <summary>XLSI (Handle) → Package {Status, Size, MaxTransfer}.</summary>
    private static AmlMethod LabelInfoMethod() => new("XLSI", 1, true,
        Set(L0, new AmlCall("XCAL", P.CommandLabelInfo, A0, 1, 0, new AmlBuffer(0x00), 0, P.FamilyIntel)),
        Set(L1, new AmlPackage(P.StatusNotSupported, 0, 0)),
        new AmlIf(LAnd(LEqual(ObjectType(L0), 3), LEqual(SizeOf(L0), 12)),
            new AmlCreateField(AmlBufferFieldKind.DWord, L0, 0, "ISTA"),
            new AmlCreateField(AmlBufferFieldKind.DWord, L0, 4, "ISIZ"),
            new AmlCreateField(AmlBufferFieldKind.DWord, L0, 8, "IMAX"),
            Set(Index(L1, 0), new AmlName("ISTA")),
            Set(Index(L1, 1), new AmlName("ISIZ")),
            Set(Index(L1, 2), new AmlName("IMAX"))),
        Return(L1));

    /// <summary>XLSR (Handle, Offset, Length) → Package {Status, Buffer}.</summary>
    private static AmlMethod LabelReadMethod() => new("XLSR", 3, true,
        Set(L2, new AmlBuffer(new byte[8])),
        new AmlCreateField(AmlBufferFieldKind.DWord, L2, 0, "ROFF"),
        new AmlCreateField(AmlBufferFieldKind.DWord, L2, 4, "RLEN"),
        Set(new AmlName("ROFF"), A1),
        Set(new AmlName("RLEN"), A2),
        Set(L0, new AmlCall("XCAL", P.CommandLabelRead, A0, 1, 0, L2, 8, P.FamilyIntel)),
        Set(L1, new AmlPackage(P.StatusNotSupported, new AmlBuffer(0x00))),
        // A bare status (4 bytes) is an error answer: pass the status through with no data.
        new AmlIf(LAnd(LEqual(ObjectType(L0), 3), LNot(LLess(SizeOf(L0), 4))),
            new AmlCreateField(AmlBufferFieldKind.DWord, L0, 0, "RSTA"),
            Set(Index(L1, 0), new AmlName("RSTA")),
            Set(Index(L1, 1), Mid(L0, 4, Subtract(SizeOf(L0), 4)))),
        Return(L1));

    /// <summary>XLSW (Handle, Offset, Length, Data) → Status.</summary>
    private static AmlMethod LabelWriteMethod() => new("XLSW", 4, true,
        Set(L2, new AmlBuffer(new byte[8])),
        new AmlCreateField(AmlBufferFieldKind.DWord, L2, 0, "WOFF"),
        new AmlCreateField(AmlBufferFieldKind.DWord, L2, 4, "WLEN"),
        Set(new AmlName("WOFF"), A1),
        Set(new AmlName("WLEN"), A2),
        Concatenate(L2, A3, L3),
        Set(L0, new AmlCall("XCAL", P.CommandLabelWrite, A0, 1, 0, L3, SizeOf(L3), P.FamilyIntel)),
        new AmlIf(LAnd(LEqual(ObjectType(L0), 3), LEqual(SizeOf(L0), 4)),
            new AmlCreateField(AmlBufferFieldKind.DWord, L0, 0, "WSTA"),
            Return(new AmlName("WSTA"))),
        Return(P.StatusNotSupported));

    /// <summary>
    /// _FIT: reads the FIT from the device model in chunks, restarting when it reports that the
    /// FIT changed; returns the boot FIT when no device model answers or the read fails. The
    /// loop is bounded (4096 chunks or restarts).
    /// </summary>
    private static AmlMethod FitMethod() => new("_FIT", 0, true,
        Set(L1, 0),                        // offset
        Set(L2, 0),                        // iterations
        Set(L3, 0),                        // accumulator valid
        Set(L4, 0),                        // accumulator
        Set(L5, new AmlBuffer(new byte[4])),
        new AmlCreateField(AmlBufferFieldKind.DWord, L5, 0, "FOFF"),
        new AmlWhile(LLess(L2, 4096),
            Increment(L2),
            Set(new AmlName("FOFF"), L1),
            Set(L0, new AmlCall("XCAL", P.CommandReadFit, 0, 1, 0, L5, 4, P.FamilyRoot)),
            new AmlIf(LOr(LNotEqual(ObjectType(L0), 3), LLess(SizeOf(L0), 4)), Return(new AmlName("BFIT"))),
            Set(L6, ToInteger(Mid(L0, 0, 4))),
            new AmlIf(LEqual(L6, P.StatusFitChanged), Set(L1, 0), Set(L3, 0)),
            new AmlElse(
                new AmlIf(LNotEqual(L6, P.StatusSuccess), Return(new AmlName("BFIT"))),
                Set(L7, Subtract(SizeOf(L0), 4)),
                new AmlIf(LEqual(L7, 0),
                    new AmlIf(L3, Return(L4)),
                    Return(new AmlName("BFIT"))),
                new AmlIf(L3, Concatenate(L4, Mid(L0, 4, L7), L4)),
                new AmlElse(Set(L4, Mid(L0, 4, L7)), Set(L3, 1)),
                Add(L1, L7, L1))),
        Return(new AmlName("BFIT")));

    private static AmlDevice SlotDevice(int slot)
    {
        uint handle = NvdimmSsdtOptions.HandleOfSlot(slot);
        return new AmlDevice($"NV{slot:X2}",
            new AmlNamed("_ADR", handle),
            new AmlMethod("_DSM", 4, true, Return(new AmlCall($"{Root}.XDSM", A0, A1, A2, A3, handle))),
            new AmlMethod("_LSI", 0, true, Return(new AmlCall($"{Root}.XLSI", handle))),
            new AmlMethod("_LSR", 2, true, Return(new AmlCall($"{Root}.XLSR", handle, A0, A1))),
            new AmlMethod("_LSW", 3, true, Return(new AmlCall($"{Root}.XLSW", handle, A0, A1, A2))));
    }

    /// <summary>
    /// GED (ACPI0013) on one edge-triggered, active-high ISA interrupt; its _EVT notifies NVDR
    /// with 0x80 so the nfit driver re-evaluates _FIT (proven in the Xen lab with IRQ 7).
    /// </summary>
    private static AmlDevice EventDevice(uint irq) => new("XGED",
        new AmlNamed("_HID", new AmlString("ACPI0013")),
        new AmlNamed("_UID", 0),
        new AmlNamed("_CRS", new AmlBuffer(ExtendedInterrupt(irq))),
        new AmlMethod("_EVT", 1, true,
            new AmlIf(LEqual(A0, irq), Notify(new AmlName(Root), 0x80))));

    /// <summary>Extended Interrupt Descriptor (ACPI 6.4 §6.4.3.6) followed by the End Tag.</summary>
    private static byte[] ExtendedInterrupt(uint irq) =>
    [
        0x89, 0x06, 0x00,                   // large item 0x09, length 6
        0x03,                               // consumer, edge, active-high, exclusive
        0x01,                               // one interrupt
        (byte)irq, (byte)(irq >> 8), (byte)(irq >> 16), (byte)(irq >> 24),
        0x79, 0x00,                         // end tag, checksum ignored
    ];
}
