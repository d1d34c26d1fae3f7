using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>The label file on a real filesystem: creation, size check, lock, round trips, journal replay.</summary>
public sealed class FileLabelStoreTests : IDisposable
{
    private const int Size = 128 * 1024;
    private readonly string _dir = Directory.CreateTempSubdirectory("xvn-labels-").FullName;
    private string Label => Path.Combine(_dir, "vnvdimm0.labels");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_missing_label_file_is_created_zero_filled_at_the_configured_size()
    {
        using (var store = FileLabelStore.Open(Label, Size))
        {
            Assert.Equal(Size, store.Size);
            Assert.False(store.RecoveredOnOpen);
        }
        byte[] bytes = File.ReadAllBytes(Label);
        Assert.Equal(Size, bytes.Length);
        Assert.All(bytes, b => Assert.Equal(0, b));
        Assert.False(File.Exists(Label + ".new"));
    }

    [Fact]
    public void Writes_read_back_and_survive_reopening()
    {
        var random = new Random(5);
        var expected = new byte[Size];
        using (var store = FileLabelStore.Open(Label, Size))
        {
            for (int i = 0; i < 200; i++)
            {
                int length = random.Next(1, 4025), offset = random.Next(Size - length + 1);
                var data = new byte[length];
                random.NextBytes(data);
                store.Write(offset, data);
                data.CopyTo(expected, offset);
                var back = new byte[length];
                store.Read(offset, back);
                Assert.Equal(data, back);
            }
        }
        Assert.Equal(expected, File.ReadAllBytes(Label));
        using var reopened = FileLabelStore.Open(Label, Size);
        var all = new byte[Size];
        reopened.Read(0, all);
        Assert.Equal(expected, all);
    }

    [Fact]
    public void A_guest_label_write_through_the_mailbox_is_in_the_file_when_it_is_acknowledged()
    {
        using var store = FileLabelStore.Open(Label, Size);
        var service = new DsmService([new DsmDevice(1, store)], new FakeFit([1]), NullLogger.Instance);
        var box = new Mailbox();
        service.Publish(box.Page);
        var data = Enumerable.Range(0, 256).Select(i => (byte)(255 - i)).ToArray();
        box.Request(4, 1, 1, 0, 1, Mailbox.Concat(Mailbox.Words(512, 256), data)); // _LSW {512, 256, data}
        Assert.True(service.HandleDoorbell(box.Page));
        Assert.Equal(Mailbox.Words(0), box.Output);
        using var f = new FileStream(Label, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var onDisk = new byte[256];
        f.Position = 512;
        f.ReadExactly(onDisk);
        Assert.Equal(data, onDisk);
    }

    [Fact]
    public void An_existing_file_of_another_size_is_refused_with_both_sizes()
    {
        File.WriteAllBytes(Label, new byte[4096]);
        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(Label, Size));
        Assert.Contains("4096", e.Message);
        Assert.Contains(Size.ToString(), e.Message);
    }

    [Fact]
    public void A_second_store_on_the_same_label_fails_clearly_until_the_first_is_closed()
    {
        var first = FileLabelStore.Open(Label, Size);
        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(Label, Size));
        Assert.Contains("in use", e.Message);
        first.Dispose();
        using var second = FileLabelStore.Open(Label, Size);
        Assert.Equal(Size, second.Size);
    }

    [Fact]
    public void Ranges_outside_the_area_are_refused_by_the_store_itself()
    {
        using var store = FileLabelStore.Open(Label, Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(Size - 1, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(-1, new byte[1]));
    }

    [Fact]
    public void An_intact_journal_record_is_replayed_at_open()
    {
        // The state a crash leaves between the journal's fdatasync and the label's: journal holds
        // the new data, the label file the old.
        using (FileLabelStore.Open(Label, Size)) { }
        var data = Enumerable.Range(0, 300).Select(i => (byte)(i + 1)).ToArray();
        var record = new byte[LabelJournal.RecordSize(data.Length)];
        LabelJournal.Encode(record, Size, 1000, data);
        File.WriteAllBytes(Label + ".journal", record);
        // ... and the label write itself torn half-way (what a power cut may leave).
        using (var f = new FileStream(Label, FileMode.Open, FileAccess.Write))
        {
            f.Position = 1000;
            f.Write(data, 0, 150);
        }

        using var store = FileLabelStore.Open(Label, Size);
        Assert.True(store.RecoveredOnOpen);
        var back = new byte[300];
        store.Read(1000, back);
        Assert.Equal(data, back);
    }

    [Theory]
    [InlineData(0)]      // torn in the header
    [InlineData(100)]    // torn in the data
    [InlineData(330)]    // torn in the hash
    public void A_torn_journal_record_is_ignored(int flipAt)
    {
        using (FileLabelStore.Open(Label, Size)) { }
        var record = new byte[LabelJournal.RecordSize(300)];
        LabelJournal.Encode(record, Size, 1000, Enumerable.Repeat((byte)0x5A, 300).ToArray());
        record[flipAt] ^= 0x40;
        File.WriteAllBytes(Label + ".journal", record);

        using var store = FileLabelStore.Open(Label, Size);
        Assert.False(store.RecoveredOnOpen);
        Assert.All(File.ReadAllBytes(Label), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_journal_for_a_label_area_of_another_size_is_ignored()
    {
        using (FileLabelStore.Open(Label, Size)) { }
        var record = new byte[LabelJournal.RecordSize(16)];
        LabelJournal.Encode(record, 2 * Size, 0, Enumerable.Repeat((byte)1, 16).ToArray());
        File.WriteAllBytes(Label + ".journal", record);
        using var store = FileLabelStore.Open(Label, Size);
        Assert.False(store.RecoveredOnOpen);
    }
}
