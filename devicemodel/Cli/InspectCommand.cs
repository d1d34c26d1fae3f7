using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Backing;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm inspect BACKEND [--json] [--summary] [--assume-spa-base ADDR] [--align BYTES] [--zero-unwritten]
/// [--stats] [--repeat N]</c>: resolves a backing and prints its runs, totals and every refusal; <c>--stats</c>
/// adds timings and memory on stderr. Exit 0 when accepted, 1 when refused.
/// </summary>
internal static class InspectCommand
{
    private static readonly Argument<string> s_backend = new("BACKEND")
    {
        Description = "the backing: a file on a DAX filesystem, a devdax character device (/dev/daxX.Y) or a pmem block device",
    };
    private static readonly Option<bool> s_json = new("--json") { Description = "print JSON" };
    private static readonly Option<bool> s_summary = new("--summary") { Description = "totals only, not every run" };
    private static readonly Option<bool> s_zero = new("--zero-unwritten")
    {
        Description = "write zeros over unwritten (fallocated) extents so they become mappable; changes the file",
    };
    private static readonly Option<bool> s_stats = new("--stats") { Description = "print timings and memory use on stderr" };
    private static readonly Option<string> s_repeat = new("--repeat")
    {
        Description = "resolve N times and report the fastest (benchmarking)",
        HelpName = "N",
        DefaultValueFactory = _ => "1",
    };
    private static readonly Option<string?> s_spaBase = new("--assume-spa-base")
    {
        Description = "for a file not on pmem (tests): pretend the host's pmem starts at ADDR (default: read the host's NFIT/nd bus)",
        HelpName = "ADDR",
    };
    private static readonly Option<string?> s_align = new("--align")
    {
        Description = "required size alignment in bytes (default: the namespace's alignment, at least 2 MiB for files)",
        HelpName = "BYTES",
    };

    public static Command Create()
    {
        var command = new Command("inspect",
            "resolve a backing into its machine-frame runs and print every refusal; exit 0 when accepted, 1 when refused")
            { s_backend, s_json, s_summary, s_zero, s_stats, s_repeat, s_spaBase, s_align, ClaimsDirectoryOption.Option };
        command.SetMain(Run);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        var log = logging.CreateLogger("inspect");
        bool json = args.GetValue(s_json);
        bool summary = args.GetValue(s_summary);
        bool zero = args.GetValue(s_zero);
        bool stats = args.GetValue(s_stats);
        string repeatText = args.GetValue(s_repeat)!;
        int repeat = int.TryParse(repeatText, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1000
            ? n : throw new UserErrorException($"--repeat '{repeatText}' is not a count in 1..1000");
        ulong? spaBase = ParseAddress(args.GetValue(s_spaBase), "--assume-spa-base");
        ulong? align = ParseAddress(args.GetValue(s_align), "--align");
        string[] positionals = [args.GetValue(s_backend)!];
        string claimsDir = ClaimsDirectoryOption.Read(args);

        var options = new BackingOptions { AssumeSpaBase = spaBase, Alignment = align, ZeroUnwritten = zero };
        // --repeat resolves again and keeps the fastest, so one-time costs (JIT, cold caches) do not count.
        var best = ResolutionStats.Measure(() => BackingResolver.Resolve(positionals[0], options));
        for (int i = 1; i < repeat; i++)
        {
            var next = ResolutionStats.Measure(() => BackingResolver.Resolve(positionals[0], options));
            (best, next) = next.Stats.Total < best.Stats.Total ? (next, best) : (best, next);
            next.Resolution.Dispose();
        }
        using var resolution = best.Resolution;
        ShowClaim(resolution, claimsDir);
        if (stats)
            Console.Error.WriteLine(best.Stats.ToString());
        if (resolution.ZeroFilledBytes > 0)
            log.LogWarning("{Path}: wrote {Bytes} zero bytes over unwritten extents (--zero-unwritten)", resolution.Path, resolution.ZeroFilledBytes);
        if (json)
        {
            // Through Console.Out, so callers that redirect it (tests, hosts) get the report.
            using var buffer = new MemoryStream();
            BackingReportWriter.WriteJson(buffer, resolution, summary);
            Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        else
            BackingReportWriter.WriteText(Console.Out, resolution, summary);
        return resolution.Accepted ? 0 : 1;
    }

    private static ulong? ParseAddress(string? text, string option)
    {
        if (text is null)
            return null;
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || v % 4096 != 0)
            throw new UserErrorException($"{option} '{text}' is not a 4 KiB-aligned number (decimal or 0x hex)");
        return v;
    }

    // The pin state as the claim registry knows it: which guest maps this inode or device, and
    // whether its companion set the flag. Read only; a host with no registry has no claims.
    private static void ShowClaim(Backing.BackingResolution r, string claimsDir)
    {
        if (r.Pinning is not { } p || !Directory.Exists(claimsDir))
            return;
        var registry = new Claims.ClaimRegistry(claimsDir, new NeverAsked());
        if (registry.List().FirstOrDefault(c => c.Backing == r.Identity) is { } claim)
            r.Pinning = p with { ClaimedBy = claim.Holder, PinnedByCompanion = claim.PinnedByUs };
    }

    // Listing never asks whether a domain lives.
    private sealed class NeverAsked : Claims.IDomainLiveness
    {
        public bool IsAlive(ushort domid) => true;
    }
}
