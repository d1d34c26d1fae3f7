using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm label-torture --label FILE --size N --seed S --start I --count N</c> (test
/// aid): opens a <see cref="FileLabelStore"/>, prints <c>ready</c> (and <c>recovered</c> when the
/// open replayed the journal), then performs writes I, I+1, … of one 4 KiB page each — page and
/// content a pure function of (seed, index), see <see cref="PageOf"/> and <see cref="Fill"/> —
/// printing <c>done INDEX</c> after each write returned. The crash-safety test SIGKILLs it at
/// random instants and checks that every page holds exactly its last completed write or the one
/// in flight.
/// </summary>
internal static class LabelTortureCommand
{
    /// <summary>Size of one torture write: a 4 KiB-aligned page of the label area.</summary>
    public const int PageBytes = 4096;

    private static readonly Option<string> s_label = new("--label") { Description = "the label file", HelpName = "FILE", Required = true };
    private static readonly Option<string> s_size = Required("--size", "label area size in bytes, a multiple of 4096");
    private static readonly Option<string> s_seed = Required("--seed", "seed of the write sequence");
    private static readonly Option<string> s_start = Required("--start", "index of the first write");
    private static readonly Option<string> s_count = Required("--count", "number of writes");

    public static Command Create()
    {
        var command = new Command("label-torture", "test aid: crash-safety torture of a label file (killed by the test)")
        {
            s_label, s_size, s_seed, s_start, s_count,
        };
        command.SetMain(Run);
        return command;
    }

    private static Option<string> Required(string name, string description) =>
        new(name) { Description = description, HelpName = "N", Required = true };

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        string label = args.GetValue(s_label)!;
        int size = Number(args, s_size);
        ulong seed = (ulong)Number(args, s_seed);
        int start = Number(args, s_start);
        int count = Number(args, s_count);
        if (size % PageBytes != 0 || size == 0)
            throw new UserErrorException($"--size {size} is not a positive multiple of {PageBytes}");

        using var store = FileLabelStore.Open(label, size, logging.CreateLogger("labels"));
        var stdout = Console.Out;
        if (store.RecoveredOnOpen)
            stdout.WriteLine("recovered");
        stdout.WriteLine("ready");
        stdout.Flush();
        var data = new byte[PageBytes];
        for (int i = start; i < start + count; i++)
        {
            Fill(seed, i, data);
            store.Write(PageOf(seed, i, size / PageBytes) * PageBytes, data);
            stdout.WriteLine($"done {i}");
            stdout.Flush();
        }
        return 0;
    }

    /// <summary>The page written by write <paramref name="index"/>.</summary>
    public static int PageOf(ulong seed, int index, int pages) => (int)(Mix(seed ^ (ulong)index * 0x9E3779B97F4A7C15) % (ulong)pages);

    /// <summary>The content of write <paramref name="index"/>: its index, then a pseudo-random stream.</summary>
    public static void Fill(ulong seed, int index, Span<byte> page)
    {
        ulong state = Mix(seed + (ulong)index);
        BinaryPrimitives.WriteInt64LittleEndian(page, index);
        for (int at = 8; at + 8 <= page.Length; at += 8)
        {
            state = Mix(state);
            BinaryPrimitives.WriteUInt64LittleEndian(page[at..], state);
        }
    }

    // splitmix64 finaliser: deterministic across runtimes, unlike a seeded System.Random.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    private static int Number(ParseResult args, Option<string> option)
    {
        string text = args.GetValue(option)!;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new UserErrorException($"{option.Name} {text}: not a non-negative integer");
        return n;
    }
}
