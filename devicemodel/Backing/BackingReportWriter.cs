using System.Globalization;
using System.Text.Json;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Writes a <see cref="BackingResolution"/> for people (text) or programs (JSON).</summary>
public static class BackingReportWriter
{
    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Text report: identity, runs (unless <paramref name="summaryOnly"/>), totals, refusals.</summary>
    public static void WriteText(TextWriter w, BackingResolution r, bool summaryOnly)
    {
        w.WriteLine($"backing   {r.Path} ({r.Kind}, {r.Size} bytes)");
        if (r.FilesystemType is not null)
            w.WriteLine($"fs        {r.FilesystemType} on {r.MountPoint}, block size {r.FilesystemBlockSize}, dax mount {(r.DaxMount == true ? "yes" : "no")}");
        if (r.Device is { } d)
            w.WriteLine($"device    {d.Name} (disk {d.Disk}, partition start {Hex(d.PartitionStart)}, disk size {Hex(d.DiskSize)})"
                + (d.LoopBackingFile is { } lf ? $", loop over {lf} at offset {Hex(d.LoopOffset)}" : ""));
        if (r.Namespace is { } ns)
            w.WriteLine($"namespace {ns.Name} {ns.Mode} [{Hex(ns.Start)}, {Hex(ns.Start + ns.Size)}) in {ns.Region} [{Hex(ns.RegionStart)}, {Hex(ns.RegionStart + ns.RegionSize)}), "
                + $"{ns.PersonalityDevice ?? "no info block"}, dataoff {Hex(ns.DataOffset)}, end_trunc {Hex(ns.EndTruncation)}, align {Hex(ns.Alignment)}");
        w.WriteLine(r.Spa is { } spa
            ? $"spa       device byte 0 at {Hex(spa.DeviceSpaBase)}{(r.SpaAssumed ? " (assumed)" : "")}, window [{Hex(spa.WindowStart)}, {Hex(spa.WindowEnd)})"
            : "spa       unknown (not pmem)");
        w.WriteLine($"alignment {Hex(r.Alignment)}");
        if (r.Pinning is { } p)
        {
            w.WriteLine($"pinning   immutable {(p.Immutable ? "yes" : "no")}, readable by others {(p.ReadableByOthers ? "yes" : "no")}, dax file {(p.DaxFile == true ? "yes" : "unknown")}: {(p.Pinned ? "pinned" : "NOT pinned")}");
            if (p.ClaimedBy is { } holder)
                w.WriteLine($"  mapped into {holder}; immutable flag {(p.PinnedByCompanion == true ? "set by its companion, cleared when the domain is gone" : "set before the claim, left alone")}");
            foreach (string advice in p.Recommendations)
                w.WriteLine($"  recommend: {advice}");
        }
        if (r.ZeroFilledBytes > 0)
            w.WriteLine($"zero-fill {r.ZeroFilledBytes} bytes written over unwritten extents");

        if (!summaryOnly)
        {
            w.WriteLine($"{"file offset",18} {"device offset",18} {"spa",18} {"mfn",14} {"length",14} align");
            ulong spaBase = r.Spa?.DeviceSpaBase ?? 0;
            foreach (var run in r.Runs)
            {
                var fr = run.ToFrameRun(spaBase);
                string spaText = r.Spa is null ? "-" : Hex(run.Spa(spaBase));
                string mfnText = r.Spa is null ? "-" : Hex(fr.Mfn);
                w.WriteLine($"{Hex(run.FileOffset),18} {Hex(run.DeviceOffset),18} {spaText,18} {mfnText,14} {Hex(run.Length),14} {ClassName(fr.Alignment)}");
            }
        }
        var s = r.Statistics();
        w.WriteLine($"totals    {s.Runs} runs from {r.Extents} extents ({r.FiemapCalls} FIEMAP calls), {s.Pages} pages, "
            + $"2M-mappable {s.Share2M:P1}, 1G-mappable {s.Share1G:P1}");
        foreach (var refusal in r.Refusals)
            w.WriteLine($"REFUSED   {refusal}");
        if (r.RefusalTotal > r.Refusals.Count)
            w.WriteLine($"REFUSED   ... {r.RefusalTotal - r.Refusals.Count} more");
        w.WriteLine(r.Accepted ? "result    accepted" : $"result    refused ({r.RefusalTotal} refusals)");
    }

    /// <summary>JSON report with the same content as the text one; numbers are plain integers.</summary>
    public static void WriteJson(Stream output, BackingResolution r, bool summaryOnly)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("path", r.Path);
        w.WriteString("kind", r.Kind.ToString());
        w.WriteNumber("size", r.Size);
        w.WriteBoolean("accepted", r.Accepted);
        if (r.FilesystemType is not null)
        {
            w.WriteString("filesystem", r.FilesystemType);
            w.WriteString("mountPoint", r.MountPoint);
            w.WriteNumber("blockSize", r.FilesystemBlockSize ?? 0);
            w.WriteBoolean("daxMount", r.DaxMount == true);
        }
        if (r.Device is { } d)
        {
            w.WriteStartObject("device");
            w.WriteString("name", d.Name);
            w.WriteString("disk", d.Disk);
            w.WriteNumber("partitionStart", d.PartitionStart);
            w.WriteNumber("size", d.Size);
            w.WriteNumber("diskSize", d.DiskSize);
            if (d.LoopBackingFile is not null)
            {
                w.WriteString("loopBackingFile", d.LoopBackingFile);
                w.WriteNumber("loopOffset", d.LoopOffset);
            }
            w.WriteEndObject();
        }
        if (r.Namespace is { } ns)
        {
            w.WriteStartObject("namespace");
            w.WriteString("name", ns.Name);
            w.WriteString("mode", ns.Mode);
            w.WriteNumber("start", ns.Start);
            w.WriteNumber("size", ns.Size);
            w.WriteString("region", ns.Region);
            w.WriteNumber("regionStart", ns.RegionStart);
            w.WriteNumber("regionSize", ns.RegionSize);
            if (ns.PersonalityDevice is not null)
                w.WriteString("infoBlockDevice", ns.PersonalityDevice);
            w.WriteNumber("dataOffset", ns.DataOffset);
            w.WriteNumber("endTruncation", ns.EndTruncation);
            w.WriteNumber("alignment", ns.Alignment);
            w.WriteEndObject();
        }
        if (r.Spa is { } spa)
        {
            w.WriteStartObject("spa");
            w.WriteNumber("deviceBase", spa.DeviceSpaBase);
            w.WriteBoolean("assumed", r.SpaAssumed);
            w.WriteNumber("windowStart", spa.WindowStart);
            w.WriteNumber("windowEnd", spa.WindowEnd);
            w.WriteEndObject();
        }
        w.WriteNumber("alignment", r.Alignment);
        if (r.Pinning is { } p)
        {
            w.WriteStartObject("pinning");
            w.WriteBoolean("immutable", p.Immutable);
            w.WriteBoolean("readableByOthers", p.ReadableByOthers);
            w.WriteBoolean("pinned", p.Pinned);
            if (p.ClaimedBy is { } holder)
            {
                w.WriteString("claimedBy", holder);
                w.WriteBoolean("pinnedByCompanion", p.PinnedByCompanion == true);
            }
            w.WriteStartArray("recommendations");
            foreach (string advice in p.Recommendations)
                w.WriteStringValue(advice);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteNumber("zeroFilledBytes", r.ZeroFilledBytes);
        if (!summaryOnly)
        {
            w.WriteStartArray("runs");
            ulong spaBase = r.Spa?.DeviceSpaBase ?? 0;
            foreach (var run in r.Runs)
            {
                var fr = run.ToFrameRun(spaBase);
                w.WriteStartObject();
                w.WriteNumber("fileOffset", run.FileOffset);
                w.WriteNumber("deviceOffset", run.DeviceOffset);
                if (r.Spa is not null)
                {
                    w.WriteNumber("spa", run.Spa(spaBase));
                    w.WriteNumber("mfn", fr.Mfn);
                }
                w.WriteNumber("gfn", fr.Gfn);
                w.WriteNumber("length", run.Length);
                w.WriteString("alignment", ClassName(fr.Alignment));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        var s = r.Statistics();
        w.WriteStartObject("totals");
        w.WriteNumber("runs", s.Runs);
        w.WriteNumber("extents", r.Extents);
        w.WriteNumber("fiemapCalls", r.FiemapCalls);
        w.WriteNumber("pages", s.Pages);
        w.WriteNumber("pages2M", s.Pages2M);
        w.WriteNumber("pages1G", s.Pages1G);
        w.WriteNumber("share2M", s.Share2M);
        w.WriteNumber("share1G", s.Share1G);
        w.WriteEndObject();
        w.WriteNumber("refusalTotal", r.RefusalTotal);
        w.WriteStartArray("refusals");
        foreach (var refusal in r.Refusals)
        {
            w.WriteStartObject();
            w.WriteString("reason", refusal.Reason.ToString());
            w.WriteNumber("start", refusal.Start);
            w.WriteNumber("end", refusal.End);
            w.WriteString("detail", refusal.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string ClassName(FrameAlignment a) => a switch
    {
        FrameAlignment.Page1G => "1G",
        FrameAlignment.Page2M => "2M",
        _ => "4K",
    };
}
