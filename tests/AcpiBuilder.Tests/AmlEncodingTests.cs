using XenVnvdimm.Acpi.Aml;
using static XenVnvdimm.Acpi.Aml.AmlOp;

namespace XenVnvdimm.Tests;

/// <summary>Golden bytes from the ACPI 6.4 AML grammar (§20), with the ASL beside each.</summary>
public class AmlEncodingTests
{
    private static string Hex(AmlNode n) => Convert.ToHexString(n.ToBytes());

    [Theory]
    [InlineData(0UL, "00")]                          // Zero
    [InlineData(1UL, "01")]                          // One
    [InlineData(2UL, "0A02")]                        // 0x02 (BytePrefix)
    [InlineData(0xFFUL, "0AFF")]                     // 0xFF
    [InlineData(0x100UL, "0B0001")]                  // 0x0100 (WordPrefix)
    [InlineData(0x0A18UL, "0B180A")]                 // 0x0A18
    [InlineData(0x10000UL, "0C00000100")]            // 0x00010000 (DWordPrefix)
    [InlineData(0x3F000000UL, "0C0000003F")]         // 0x3F000000
    [InlineData(0x100000000UL, "0E0000000001000000")] // 0x0000000100000000 (QWordPrefix)
    public void IntegersUseTheSmallestEncoding(ulong value, string expected) =>
        Assert.Equal(expected, Hex(new AmlInteger(value)));

    [Fact]
    public void StringIsNulTerminated() =>
        // "ACPI0012"
        Assert.Equal("0D4143504930303132" + "00", Hex(new AmlString("ACPI0012")));

    [Fact]
    public void NameWithPaddedSegment() =>
        // Name (_HID, "AB")  →  08 '_HID' 0D 'A' 'B' 00
        Assert.Equal("085F4849440D414200", Hex(new AmlNamed("_HID", new AmlString("AB"))));

    [Theory]
    [InlineData("NVDR", "4E564452")]                              // NVDR
    [InlineData("\\_SB", "5C5F53425F")]                           // \_SB_ (padded)
    [InlineData("\\_SB.NVDR", "5C2E5F53425F4E564452")]           // \_SB.NVDR (DualNamePrefix)
    [InlineData("\\_SB.NVDR.XDSM", "5C2F035F53425F4E5644525844534D")] // \_SB.NVDR.XDSM (MultiNamePrefix, 3)
    [InlineData("^NV0", "5E4E56305F")]                            // ^NV0_ (parent prefix, padded)
    public void NameStrings(string path, string expected) => Assert.Equal(expected, Hex(new AmlName(path)));

    [Fact]
    public void BufferWithSizeAndBytes() =>
        // Buffer (0x02) { 0xAA, 0xBB }  →  11 PkgLength=05 0A02 AA BB
        Assert.Equal("11050A02AABB", Hex(new AmlBuffer(0xAA, 0xBB)));

    [Fact]
    public void PackageOfIntegers() =>
        // Package (0x03) { One, Zero, 0x10 }  →  12 PkgLength=06 NumElements=03 01 00 0A10
        Assert.Equal("1206030100" + "0A10", Hex(new AmlPackage(1, 0, 0x10)));

    [Theory]
    [InlineData(0, "01")]
    [InlineData(0x3E, "3F")]          // largest one-byte PkgLength (total 0x3F)
    [InlineData(0x3F, "4104")]        // body 63 → total 65 = 0x41: lead 0x41 (1 extra byte), then 0x04
    [InlineData(0xFFD, "4FFF")]       // body 4093 → total 4095 = 0xFFF: two bytes
    [InlineData(0xFFE, "810001")]     // body 4094 → total 4097 = 0x1001: three bytes (nibble, bits 11:4, bits 19:12)
    [InlineData(0xFFFFC, "8FFFFF")]   // body → total 0xFFFFF: three bytes
    [InlineData(0xFFFFD, "C1000001")] // body → total 0x100001: four bytes
    public void PackageLengthAllFourSizes(int body, string expected)
    {
        var o = new List<byte>();
        PackageLength.Encode(o, body);
        Assert.Equal(expected, Convert.ToHexString(o.ToArray()));
        var (value, size) = PackageLength.Decode(o.ToArray());
        Assert.Equal(body + size, value);
    }

    [Fact]
    public void ScopeWithDevice() =>
        // Scope (\_SB) { Device (NVDR) { } }
        //   10 PkgLength=0D 5C5F53425F  5B82 PkgLength=05 4E564452
        Assert.Equal("100D5C5F53425F" + "5B82054E564452", Hex(new AmlScope("\\_SB", new AmlDevice("NVDR"))));

    [Fact]
    public void SerializedMethodReturningArg() =>
        // Method (_DSM, 4, Serialized) { Return (Arg0) }
        //   14 PkgLength=08 5F44534D Flags=0C A4 68
        Assert.Equal("14085F44534D0CA468", Hex(new AmlMethod("_DSM", 4, true, Return(new AmlArg(0)))));

    [Fact]
    public void OperationRegionAndField() =>
        // OperationRegion (XVDB, SystemIO, 0x0A18, One)
        //   5B80 58564442 01 0B180A 01
        // Field (XVDB, ByteAcc, NoLock, Preserve) { XDBL, 8 }
        //   5B81 PkgLength=0B 58564442 01 5844424C 08
        Assert.Equal("5B805856444201" + "0B180A" + "01" + "5B810B5856444201" + "5844424C08",
            Hex(new AmlOperationRegion("XVDB", AmlRegionSpace.SystemIO, (ulong)0x0A18, 1))
            + Hex(new AmlField("XVDB", AmlFieldAccess.Byte, new AmlNamedField("XDBL", 8))));

    [Fact]
    public void WideFieldUsesMultiBytePkgLengthWidth() =>
        // Field (XVMB, DWordAcc, NoLock, Preserve) { Offset (0x40), XDAT, 32256 }
        //   5B81 PkgLength=10 58564D42 03  00 4020 (reserved 512 = 0x200 bits)  58444154 80E007 (32256 = 0x7E00 bits)
        Assert.Equal("5B811058564D4203" + "004020" + "58444154" + "80E007",
            Hex(new AmlField("XVMB", AmlFieldAccess.DWord, new AmlReservedField(512), new AmlNamedField("XDAT", 32256))));

    [Fact]
    public void IfElseWhile() =>
        // If (LEqual (Local0, One)) { Return (Zero) } Else { Sleep (One) }
        //   A0 PkgLength=06 93 60 01 A4 00   A1 PkgLength=04 5B22 01
        // While (LLess (Local0, 0x0A)) { Increment (Local0) }
        //   A2 PkgLength=07 95 60 0A0A 75 60
        Assert.Equal("A006936001A400" + "A1045B2201" + "A20795600A0A7560",
            Hex(new AmlIf(LEqual(new AmlLocal(0), 1), Return(0)))
            + Hex(new AmlElse(Sleep(1)))
            + Hex(new AmlWhile(LLess(new AmlLocal(0), 10), Increment(new AmlLocal(0)))));

    [Fact]
    public void StallBusyWaitsMicroseconds() =>
        // Stall (0x0A)                          5B21 0A0A
        Assert.Equal("5B210A0A", Hex(Stall(10)));

    [Fact]
    public void StoreArithmeticAndNullTargets() =>
        // Store (Arg1, Local2)                 70 69 62
        // Add (Local1, Local7, Local1)         72 61 67 61
        // Subtract (SizeOf (Local0), 0x04, )   74 87 60 0A04 00
        // ShiftLeft (One, 0x03, Local3)        79 01 0A03 63
        Assert.Equal("706962" + "72616761" + "7487600A0400" + "79010A0363",
            Hex(Store(new AmlArg(1), new AmlLocal(2)))
            + Hex(Add(new AmlLocal(1), new AmlLocal(7), new AmlLocal(1)))
            + Hex(Subtract(SizeOf(new AmlLocal(0)), 4))
            + Hex(ShiftLeft(1, 3, new AmlLocal(3))));

    [Fact]
    public void BufferFieldsMidConcatenateAndToUuid()
    {
        // CreateDWordField (Local0, 0x04, ISIZ)   8A 60 0A04 4953495A
        Assert.Equal("8A600A044953495A", Hex(new AmlCreateField(AmlBufferFieldKind.DWord, new AmlLocal(0), 4, "ISIZ")));
        // CreateField (Local0, 0x20, 0x40, BUFF)  5B13 60 0A20 0A40 42554646
        Assert.Equal("5B13600A200A4042554646", Hex(new AmlCreateBitsField(new AmlLocal(0), 0x20, 0x40, "BUFF")));
        // Mid (Local0, 0x04, Local7, )            9E 60 0A04 67 00
        Assert.Equal("9E600A046700", Hex(Mid(new AmlLocal(0), 4, new AmlLocal(7))));
        // Concatenate (Local4, Arg3, Local4)      73 64 6B 64
        Assert.Equal("73646B64", Hex(Concatenate(new AmlLocal(4), new AmlArg(3), new AmlLocal(4))));
        // ToUUID ("2f10e7a4-9e91-11e4-89d3-123b93f75cba"): byte order A4E7102F 919E E411 89D3 123B93F75CBA
        Assert.Equal("11130A10" + "A4E7102F919EE41189D3123B93F75CBA",
            Hex(AmlBuffer.Uuid("2f10e7a4-9e91-11e4-89d3-123b93f75cba")));
    }

    [Fact]
    public void NotifyMutexAcquireRelease() =>
        // Notify (\_SB.NVDR, 0x80)   86 5C2E5F53425F4E564452 0A80
        // Mutex (XVMX, 0)            5B01 58564D58 00
        // Acquire (XVMX, 0x03E8)     5B23 58564D58 E803
        // Release (XVMX)             5B27 58564D58
        Assert.Equal("865C2E5F53425F4E5644520A80" + "5B0158564D5800" + "5B2358564D58E803" + "5B2758564D58",
            Hex(Notify(new AmlName("\\_SB.NVDR"), 0x80)) + Hex(new AmlMutex("XVMX", 0))
            + Hex(Acquire("XVMX", 1000)) + Hex(Release("XVMX")));

    [Fact]
    public void MethodCallAndLogic() =>
        // XCAL (One, Arg4)                 5843414C 01 6C
        // LNotEqual (Local0, 0xFF)         92 93 60 0AFF
        // LAnd (LOr (One, Zero), LNot (Zero))  90 91 01 00 92 00
        Assert.Equal("5843414C016C" + "9293600AFF" + "909101009200",
            Hex(new AmlCall("XCAL", 1, new AmlArg(4))) + Hex(LNotEqual(new AmlLocal(0), 0xFF))
            + Hex(LAnd(LOr(1, 0), LNot(0))));

    [Fact]
    public void InvalidNamesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new AmlName("toolong5").ToBytes());
        Assert.Throws<ArgumentException>(() => new AmlName("1ABC").ToBytes());
        Assert.Throws<ArgumentException>(() => new AmlName("ab").ToBytes());
    }
}
