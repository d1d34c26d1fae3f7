using System.Text.RegularExpressions;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests;

/// <summary>
/// Xen's own public header (libxen-dev's /usr/include/xen/io/xs_wire.h) as the judge of the codec's
/// numbers: message types, error names, limits; errno values from the kernel's uapi headers.
/// </summary>
public sealed partial class XsWireHeaderTests
{
    private const string Header = "/usr/include/xen/io/xs_wire.h";

    private static string ReadHeader(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new Xunit.Sdk.XunitException($"{path} missing: run scripts/setup (libxen-dev, linux-libc-dev)");

    [Fact]
    public void MessageTypes_MatchTheEnumInXsWireH()
    {
        string text = ReadHeader(Header);
        var body = EnumBody().Match(text);
        Assert.True(body.Success, "enum xsd_sockmsg_type not found");
        var values = new Dictionary<string, long>();
        long next = 0;
        foreach (Match entry in EnumEntry().Matches(StripComments(body.Groups[1].Value)))
        {
            string name = entry.Groups[1].Value;
            string expr = entry.Groups[2].Value.Trim();
            long value = expr.Length == 0 ? next
                : expr.StartsWith("0x") ? Convert.ToInt64(expr[2..], 16)
                : Regex.Match(expr, @"^(\w+)\s*\+\s*(\d+)$") is { Success: true } m ? values[m.Groups[1].Value] + long.Parse(m.Groups[2].Value)
                : long.Parse(expr);
            values[name] = value;
            next = value + 1;
        }
        Assert.True(values.Count >= 20, $"parsed only {values.Count} entries");

        foreach (var (name, value) in values)
        {
            if (name == "XS_TYPE_COUNT")
            {
                Assert.False(XsMessageTypes.IsKnown((XsMessageType)value));
                Assert.True(XsMessageTypes.IsKnown((XsMessageType)(value - 1)));
                continue;
            }
            string pascal = string.Concat(name["XS_".Length..].Split('_').Select(w => w[0] + w[1..].ToLowerInvariant()));
            Assert.True(Enum.TryParse<XsMessageType>(pascal, out var ours), $"{name} has no XsMessageType.{pascal}");
            Assert.Equal(value, (long)(uint)ours);
        }
    }

    [Fact]
    public void ErrorNames_MatchXsdErrors_WithKernelErrnoValues()
    {
        string text = ReadHeader(Header);
        var names = XsdError().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.True(names.Count >= 15, $"parsed only {names.Count} xsd_errors");
        var errno = new Dictionary<string, int>();
        foreach (var file in new[] { "/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h" })
            foreach (Match m in ErrnoDefine().Matches(ReadHeader(file)))
                errno[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);

        Assert.Equal(names.Order(), Enum.GetNames<XenStoreErrno>().Order());
        foreach (var name in names)
        {
            var parsed = XsErrors.FromWire(System.Text.Encoding.ASCII.GetBytes(name + "\0"), out bool known);
            Assert.True(known, name);
            Assert.Equal(errno[name], (int)parsed);
        }
    }

    [Fact]
    public void Limits_MatchXsWireH()
    {
        string text = ReadHeader(Header);
        int Define(string name) => int.Parse(Regex.Match(text, $@"#define\s+{name}\s+(\d+)").Groups[1].Value);
        Assert.Equal(XsLimits.PayloadMax, Define("XENSTORE_PAYLOAD_MAX"));
        Assert.Equal(XsLimits.AbsolutePathMax, Define("XENSTORE_ABS_PATH_MAX"));
        Assert.Equal(XsLimits.RelativePathMax, Define("XENSTORE_REL_PATH_MAX"));
    }

    private static string StripComments(string s) =>
        Regex.Replace(Regex.Replace(s, @"/\*.*?\*/", "", RegexOptions.Singleline), @"^\s*#.*$", "", RegexOptions.Multiline);

    [GeneratedRegex(@"enum\s+xsd_sockmsg_type\s*\{(.*?)\};", RegexOptions.Singleline)]
    private static partial Regex EnumBody();

    [GeneratedRegex(@"(XS_\w+)\s*(?:=\s*([^,]+))?\s*,?")]
    private static partial Regex EnumEntry();

    [GeneratedRegex(@"XSD_ERROR\((E\w+)\)")]
    private static partial Regex XsdError();

    [GeneratedRegex(@"#define\s+(E\w+)\s+(\d+)")]
    private static partial Regex ErrnoDefine();
}
