using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Verify;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm verify --core CORE --config FILE [--platform xen|qemu]</c>: checks, page by
/// page, that every vNVDIMM's guest-physical range in a guest memory dump holds exactly the
/// bytes of its backing store, i.e. that the guest's frames really are the backing's frames.
/// Exit 0 when all match, 1 with the first differing page of each device named otherwise.
/// </summary>
internal static class VerifyCommand
{
    private const int Page = 4096;
    private const int Chunk = 1 << 20;

    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string corePath = args.Required("--core");
        string configPath = args.Required("--config");
        var platform = TablesCommand.ParsePlatform(args.Option("--platform") ?? "qemu");
        var labels = LabelDirectoryOption.Read(args, logging);
        args.End();

        var layout = LayoutPlanner.Plan(VnvdimmConfig.Load(configPath, platform, logging.CreateLogger("verify")), labels: labels);
        using var core = GuestCore.Open(corePath);
        int bad = 0;
        var guest = new byte[Chunk];
        var host = new byte[Chunk];
        foreach (var d in layout.Devices)
        {
            using var backend = new FileStream(d.Backend, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
            string? problem = null;
            for (ulong off = 0; off < d.Size && problem is null; off += Chunk)
            {
                int n = (int)Math.Min(Chunk, d.Size - off);
                if (!core.TryRead(d.Gpa + off, guest.AsSpan(0, n)))
                {
                    problem = $"guest range 0x{d.Gpa + off:x}-0x{d.Gpa + off + (ulong)n - 1:x} is not in the core";
                    break;
                }
                backend.Position = (long)off;
                backend.ReadExactly(host.AsSpan(0, n));
                int diff = guest.AsSpan(0, n).CommonPrefixLength(host.AsSpan(0, n));
                if (diff < n)
                {
                    ulong at = off + (ulong)(diff / Page * Page);
                    problem = $"guest page at GPA 0x{d.Gpa + at:x} (backend offset 0x{at:x}, byte 0x{off + (ulong)diff:x}) differs from the backing file";
                }
            }
            if (problem is null)
            {
                Console.Out.WriteLine($"slot {d.Slot} {d.Backend}: {d.Size / Page} pages at GPA 0x{d.Gpa:x} match");
            }
            else
            {
                bad++;
                Console.Error.WriteLine($"xen-vnvdimm verify: slot {d.Slot} {d.Backend}: {problem}");
            }
        }
        return bad == 0 ? 0 : 1;
    }
}
