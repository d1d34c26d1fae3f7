using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>An in-memory label area that records how it was called.</summary>
internal sealed class MemoryLabelStore(int size, int? maxTransfer = null) : ILabelStore
{
    public byte[] Bytes { get; } = new byte[size];
    public int Writes { get; private set; }
    public int Size => Bytes.Length;
    public int? MaxTransfer => maxTransfer;
    public bool Fail { get; set; }
    /// <summary>Calls outside the area or above the transfer limit: the service must never make one.</summary>
    public int Violations { get; private set; }

    private void Check(int offset, int length)
    {
        if (offset < 0 || length < 0 || (long)offset + length > Size || length > (maxTransfer ?? 4024))
            Violations++;
    }

    public void Read(int offset, Span<byte> destination)
    {
        Check(offset, destination.Length);
        if (Fail)
            throw new IOException("simulated read failure");
        Bytes.AsSpan(offset, destination.Length).CopyTo(destination);
    }

    public void Write(int offset, ReadOnlySpan<byte> source)
    {
        Check(offset, source.Length);
        if (Fail)
            throw new IOException("simulated write failure");
        source.CopyTo(Bytes.AsSpan(offset));
        Writes++;
    }
}

/// <summary>A FIT whose content and generation a test changes at will (a hot-add).</summary>
internal sealed class FakeFit(byte[] fit) : IFitSource
{
    private byte[] _fit = fit;
    public ReadOnlyMemory<byte> Fit => _fit;
    public long Generation { get; private set; } = 1;

    public void Replace(byte[] fit)
    {
        _fit = fit;
        Generation++;
    }

    /// <summary>A FIT of <paramref name="length"/> bytes whose every byte tells its position.</summary>
    public static byte[] Pattern(int length, int salt = 0) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + i / 251 + salt)).ToArray();
}

/// <summary>The standard service of these tests: handle 1 with a 128 KiB label area, handle 2 without labels.</summary>
internal sealed class Rig
{
    public const uint Labelled = 1, Unlabelled = 2, Unknown = 3;
    public const int LabelSize = 128 * 1024;

    public MemoryLabelStore Labels { get; } = new(LabelSize);
    public FakeFit Fit { get; } = new(FakeFit.Pattern(10_000));
    public DsmService Service { get; }
    public Mailbox Mailbox { get; } = new();

    public Rig()
    {
        Service = new DsmService([new DsmDevice(Labelled, Labels), new DsmDevice(Unlabelled, null)], Fit, NullLogger.Instance);
        Service.Publish(Mailbox.Page);
    }

    /// <summary>Writes a request, rings the doorbell, and checks the response was published.</summary>
    public Mailbox Call(uint command, uint handle, uint revision, uint function, uint family, byte[] input, uint? inputLength = null)
    {
        Mailbox.Request(command, handle, revision, function, family, input, inputLength);
        Assert.True(Service.HandleDoorbell(Mailbox.Page));
        Assert.Equal(2u, Mailbox.State);
        Assert.True(Mailbox.OutputLength is > 0 and <= 4032);
        Assert.True(Mailbox.GuardsIntact);
        return Mailbox;
    }
}
