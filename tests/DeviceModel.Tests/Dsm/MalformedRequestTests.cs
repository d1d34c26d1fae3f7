using static XenVnvdimm.Tests.Dsm.Mailbox;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>
/// Every malformed request gets the status of FACTS.md / the NVDIMM DSM interface: 1 unsupported
/// (command, family, function, device without labels), 2 no such device, 3 invalid input
/// (revision, truncation, range, transfer size, oversize input). Literal numbers on purpose: they
/// are the guest ABI, not whatever the code under test defines.
/// </summary>
public sealed class MalformedRequestTests
{
    // Commands, families and handles of the mailbox contract; Rig: handle 1 has a 128 KiB label
    // area (max transfer 4024), handle 2 has none, handle 3 does not exist.
    private const uint Dsm = 1, Lsi = 2, Lsr = 3, Lsw = 4, Fit = 5;
    private const uint Root = 0, Intel = 1;
    private const uint End = 128 * 1024;

    private static object?[] Row(string name, uint command, uint handle, uint revision, uint function, uint family,
        byte[] input, uint expected, uint? inputLength = null, int outputLength = 4)
        => [name, command, handle, revision, function, family, input, expected, inputLength, outputLength];

    private static byte[] Range(uint offset, uint length) => Words(offset, length);
    private static byte[] WriteInput(uint offset, uint length, int dataBytes) => Concat(Words(offset, length), new byte[dataBytes]);

    public static IEnumerable<object?[]> Cases()
    {
        // Unknown commands.
        yield return Row("command 0", 0, 1, 1, 0, Intel, [], 1);
        yield return Row("command 6", 6, 1, 1, 0, Intel, [], 1);
        yield return Row("command max", uint.MaxValue, 1, 1, 5, Intel, Range(0, 8), 1);

        // Input length beyond the 4032-byte data area.
        yield return Row("dsm input 4033", Dsm, 1, 1, 5, Intel, Range(0, 8), 3, inputLength: 4033);
        yield return Row("dsm input max", Dsm, 1, 1, 5, Intel, Range(0, 8), 3, inputLength: uint.MaxValue);
        yield return Row("lsw input 4033", Lsw, 1, 1, 0, Intel, WriteInput(0, 8, 8), 3, inputLength: 4033);
        yield return Row("fit input 0x80000000", Fit, 0, 1, 0, Root, Words(0), 3, inputLength: 0x8000_0000);

        // Handles.
        yield return Row("dsm fn4 unknown handle", Dsm, 3, 1, 4, Intel, [], 2);
        yield return Row("dsm fn5 handle max", Dsm, uint.MaxValue, 1, 5, Intel, Range(0, 8), 2);
        yield return Row("dsm fn6 unknown handle", Dsm, 3, 1, 6, Intel, WriteInput(0, 8, 8), 2);
        yield return Row("lsi root handle", Lsi, 0, 1, 0, Intel, [], 2, outputLength: 12);
        yield return Row("lsi unknown handle", Lsi, 3, 1, 0, Intel, [], 2, outputLength: 12);
        yield return Row("lsr root handle", Lsr, 0, 1, 0, Intel, Range(0, 8), 2);
        yield return Row("lsr unknown handle", Lsr, 0x8000_0001, 1, 0, Intel, Range(0, 8), 2);
        yield return Row("lsw root handle", Lsw, 0, 1, 0, Intel, WriteInput(0, 8, 8), 2);
        yield return Row("lsw unknown handle", Lsw, 3, 1, 0, Intel, WriteInput(0, 8, 8), 2);
        yield return Row("fit on a device handle", Fit, 1, 1, 0, Root, Words(0), 2);

        // Families and functions.
        yield return Row("root fn1 (ARS caps)", Dsm, 0, 1, 1, Root, Words(0, 0), 1);
        yield return Row("root fn2 (ARS start)", Dsm, 0, 1, 2, Root, new byte[16], 1);
        yield return Row("root fn4 (clear error)", Dsm, 0, 1, 4, Root, new byte[16], 1);
        yield return Row("root fn5 intel family", Dsm, 0, 1, 5, Intel, Range(0, 8), 1);
        yield return Row("intel fn1 (smart)", Dsm, 1, 1, 1, Intel, [], 1);
        yield return Row("intel fn3", Dsm, 1, 1, 3, Intel, [], 1);
        yield return Row("intel fn7", Dsm, 1, 1, 7, Intel, [], 1);
        yield return Row("intel fn max", Dsm, 1, 1, uint.MaxValue, Intel, [], 1);
        yield return Row("family 2", Dsm, 1, 1, 4, 2, [], 1);
        yield return Row("family max", Dsm, 1, 1, 5, uint.MaxValue, Range(0, 8), 1);
        yield return Row("root family on a device", Dsm, 1, 1, 4, Root, [], 1);

        // Devices without labels.
        yield return Row("unlabelled fn4", Dsm, 2, 1, 4, Intel, [], 1, outputLength: 12);
        yield return Row("unlabelled fn5", Dsm, 2, 1, 5, Intel, Range(0, 8), 1);
        yield return Row("unlabelled fn6", Dsm, 2, 1, 6, Intel, WriteInput(0, 8, 8), 1);
        yield return Row("unlabelled lsi", Lsi, 2, 1, 0, Intel, [], 1, outputLength: 12);
        yield return Row("unlabelled lsr", Lsr, 2, 1, 0, Intel, Range(0, 8), 1);
        yield return Row("unlabelled lsw", Lsw, 2, 1, 0, Intel, WriteInput(0, 8, 8), 1);

        // Revisions (only 1 is served).
        foreach (uint rev in new uint[] { 0, 2, uint.MaxValue })
        {
            yield return Row($"fn4 revision {rev}", Dsm, 1, rev, 4, Intel, [], 3, outputLength: 12);
            yield return Row($"fn5 revision {rev}", Dsm, 1, rev, 5, Intel, Range(0, 8), 3);
            yield return Row($"fn6 revision {rev}", Dsm, 1, rev, 6, Intel, WriteInput(0, 8, 8), 3);
            yield return Row($"lsi revision {rev}", Lsi, 1, rev, 0, Intel, [], 3, outputLength: 12);
            yield return Row($"lsr revision {rev}", Lsr, 1, rev, 0, Intel, Range(0, 8), 3);
            yield return Row($"lsw revision {rev}", Lsw, 1, rev, 0, Intel, WriteInput(0, 8, 8), 3);
            yield return Row($"fit revision {rev}", Fit, 0, rev, 0, Root, Words(0), 3);
        }

        // Truncated inputs.
        yield return Row("fn5 no input", Dsm, 1, 1, 5, Intel, [], 3);
        yield return Row("fn5 7 bytes", Dsm, 1, 1, 5, Intel, new byte[7], 3);
        yield return Row("fn6 4 bytes", Dsm, 1, 1, 6, Intel, Words(0), 3);
        yield return Row("fn6 data short by 1", Dsm, 1, 1, 6, Intel, WriteInput(0, 16, 15), 3);
        yield return Row("fn6 header only", Dsm, 1, 1, 6, Intel, Range(0, 1), 3);
        yield return Row("lsr 7 bytes", Lsr, 1, 1, 0, Intel, new byte[7], 3);
        yield return Row("lsw data short", Lsw, 1, 1, 0, Intel, WriteInput(256, 256, 255), 3);
        yield return Row("lsw honest length, lying header", Lsw, 1, 1, 0, Intel, WriteInput(0, 4024, 100), 3);
        yield return Row("fit 3 bytes", Fit, 0, 1, 0, Root, new byte[3], 3);
        yield return Row("fit no input", Fit, 0, 1, 0, Root, [], 3);
        // Input length claims fewer bytes than the buffer the guest actually wrote.
        yield return Row("fn5 length says 4", Dsm, 1, 1, 5, Intel, Range(0, 8), 3, inputLength: 4);
        yield return Row("lsw length cuts data", Lsw, 1, 1, 0, Intel, WriteInput(0, 64, 64), 3, inputLength: 8 + 63);

        // Ranges: past the end, overflowing offset + length, above max transfer (4024).
        foreach (uint cmd in new[] { Lsr, Dsm })
        {
            uint fn = cmd == Dsm ? 5u : 0u;
            string p = cmd == Dsm ? "fn5" : "lsr";
            yield return Row($"{p} length 4025", cmd, 1, 1, fn, Intel, Range(0, 4025), 3);
            yield return Row($"{p} length max", cmd, 1, 1, fn, Intel, Range(0, uint.MaxValue), 3);
            yield return Row($"{p} one byte past the end", cmd, 1, 1, fn, Intel, Range(End - 10, 11), 3);
            yield return Row($"{p} offset at end + 1", cmd, 1, 1, fn, Intel, Range(End + 1, 0), 3);
            yield return Row($"{p} offset max", cmd, 1, 1, fn, Intel, Range(uint.MaxValue, 2), 3);
            yield return Row($"{p} offset+length wraps 32 bits", cmd, 1, 1, fn, Intel, Range(0xFFFF_FFF0, 0x20), 3);
            yield return Row($"{p} offset 2^31", cmd, 1, 1, fn, Intel, Range(0x8000_0000, 8), 3);
        }
        foreach (uint cmd in new[] { Lsw, Dsm })
        {
            uint fn = cmd == Dsm ? 6u : 0u;
            string p = cmd == Dsm ? "fn6" : "lsw";
            yield return Row($"{p} length 4025", cmd, 1, 1, fn, Intel, WriteInput(0, 4025, 4024), 3);
            yield return Row($"{p} length max", cmd, 1, 1, fn, Intel, WriteInput(0, uint.MaxValue, 64), 3);
            yield return Row($"{p} straddles the end", cmd, 1, 1, fn, Intel, WriteInput(End - 4, 8, 8), 3);
            yield return Row($"{p} offset max", cmd, 1, 1, fn, Intel, WriteInput(uint.MaxValue, 1, 1), 3);
            yield return Row($"{p} offset+length wraps 32 bits", cmd, 1, 1, fn, Intel, WriteInput(0xFFFF_FFFC, 8, 8), 3);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Malformed_request_gets_its_status_and_changes_nothing(string name, uint command, uint handle, uint revision,
        uint function, uint family, byte[] input, uint expected, uint? inputLength, int outputLength)
    {
        var rig = new Rig();
        var box = rig.Call(command, handle, revision, function, family, input, inputLength);
        Assert.True(expected == box.Status, $"{name}: status {box.Status}, expected {expected}");
        Assert.Equal((uint)outputLength, box.OutputLength);
        if (outputLength == 12)
            Assert.Equal(new byte[8], box.Output[4..12]); // no size or max transfer leaks with a failure
        Assert.Equal(0, rig.Labels.Writes);
        Assert.All(rig.Labels.Bytes, b => Assert.Equal(0, b));
        Assert.Equal(1, rig.Service.Statistics.Requests);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    [InlineData(3u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Doorbell_without_a_request_state_leaves_the_page_alone(uint state)
    {
        var rig = new Rig();
        rig.Mailbox.Request(Dsm, 1, 1, 5, Intel, Range(0, 8), state: state);
        byte[] before = rig.Mailbox.Page.ToArray();
        Assert.False(rig.Service.HandleDoorbell(rig.Mailbox.Page));
        Assert.Equal(before, rig.Mailbox.Page.ToArray());
        Assert.True(rig.Mailbox.GuardsIntact);
        Assert.Equal(0, rig.Service.Statistics.Requests);
        Assert.Equal(1, rig.Service.Statistics.IdleDoorbells);
    }

    [Theory]
    [InlineData(0u, Root, 1u)]      // root: no ARS, so nothing beyond function 0
    [InlineData(2u, Intel, 1u)]     // device without labels
    [InlineData(3u, Intel, 1u)]     // unknown handle
    [InlineData(1u, 2u, 1u)]        // unknown family
    [InlineData(1u, Root, 1u)]      // root family on a device
    [InlineData(1u, Intel, 2u)]     // revision 2
    [InlineData(1u, Intel, 0u)]     // revision 0
    public void Function_0_without_supported_functions_is_a_zero_bitmap(uint handle, uint family, uint revision)
    {
        // ACPI _DSM: function 0 returns a bit per function; bit 0 clear = nothing but function 0.
        // A status word here would be misread as a bitmap (status 3 = bits 0 and 1).
        var box = new Rig().Call(Dsm, handle, revision, 0, family, []);
        Assert.Equal(new byte[] { 0x00 }, box.Output);
    }
}
