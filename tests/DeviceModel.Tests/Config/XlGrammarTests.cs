using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Config;

namespace XenVnvdimm.Tests.Config;

/// <summary>
/// Our xl config parser against Xen's own (libxlutil, Debian's libxen-dev): the same files accepted
/// and rejected, the same values read — for tricky inputs and for every config the repository ships.
/// </summary>
public partial class XlGrammarTests
{
    public static TheoryData<string> Corpus() =>
    [
        "a = 1\n",
        "a = 0xfe000000\n",
        "a = 0xFE000000\n",                 // upper-case hex: a lexical error in xl
        "a = 0x0A18\n",
        "a = \"0xFE000000\"\n",
        "a = 12abc\n",                      // a NUMBER token to libxlutil
        "a = 0xx1\n",
        "a = 128K\n",
        "a = 128k\n",
        "a = -1\n",
        "a = 1.5\n",
        "a = cpu\n",                        // words must be quoted
        "a = \"cpu\"\n",
        "a = 'cpu'\n",
        "A = 1\n",
        "a.b_c9 = 1\n",
        "_a = 1\n",
        "a = 1",                            // no final newline
        "a = 1\r\n",                        // CR line ends
        "a = 1 # comment\nb = 2\n",
        "a = 1\n# comment at end without newline",
        "a = 1\n#",                         // a last stray character is dropped by flex
        "a = \"x\" +",
        "a = \"x\" +\n",
        "a = 1 b = 2\n",
        "a = 1; b = 2;; ;\n",
        "a = 1;b = \"2\"",
        "\n\n  \t\na = [ ]\n",
        "a = [\n]\n",
        "a = [ , ]\n",
        "a = [ 'x', ]\n",
        "a = [ 'x',\n  ]\n",
        "a = [ 'x' 'y' ]\n",
        "a = [ 'x',, 'y' ]\n",
        "a = [\n  # first\n  'x'   # after x\n  , 'y' # after y\n  ,\n]\nb = 'z'\n",
        "a = [ 'x'\n , 'y' ]\n",
        "a = [ [ 'n', 1 ], 'm', [] ]\n",
        "a = [ 'x'\n",
        "a = [ 'x', 'y'",
        "a = ['p']\na += ['q', 'r']\n",
        "a += ['q']\n",
        "a = 'p'\na += 'q'\na += \"r\"\n",
        "a = 'p'\na += ['q']\n",
        "a = ['p']\na += 'q'\n",
        "a = ['p']\na = ['q']\na += ['r']\n",
        "a = 5\na += 6\n",
        "a += 5\n",
        "a + = 5\n",
        "a =+ 5\n",
        "a == 5\n",
        "= 5\n",
        "a =\n5\n",
        "a = \"tab\\there\\nnl \\\\ \\\" \\' \\a\\b\\f\\r\\v\"\n",
        "a = 'it\\'s'\n",
        "a = \"it's\"\n",
        "a = 'say \"hi\"'\n",
        "a = \"x\\x41\"\n",
        "a = \"x\\0123y\"\n",
        "a = \"x\\01\"\n",
        "a = \"x\\7 12\"\n",
        "a = \"x\\q\"\n",
        "a = \"x\\\"\n",
        "a = \"x\\\ny\"\n",
        "a = \"unterminated\n",
        "a = 'x\"\n",
        "a = \"ünï\"\n",
        "a = ünï\n",
        "a = 'x' ; # c\n",
        "vnvdimms = [ 'backend=/srv/a.img, label_size=128K', \"backend=/dev/dax0.1, unarmed=1\" ]\nvnvdimms += [ 'backend=/srv/c.img' ]\n",
        "dsm_port = \"0x0A18\"\ndsm_mailbox = 4261412864\nvnvdimm_persistence = \"cpu\"\nevent_irq = \"none\"\n",
    ];

    [Theory]
    [MemberData(nameof(Corpus))]
    public void AcceptsRejectsAndReadsLikeLibxlutil(string text)
    {
        var keys = KeysIn(text);
        var theirs = LibXlUtil.Read(text, keys);
        XlConfigFile? ours;
        try
        {
            ours = XlConfigFile.Parse(text, "t.cfg");
        }
        catch (UserErrorException e)
        {
            Assert.True(theirs is null, $"we reject what libxlutil accepts: {e.Message}");
            Assert.StartsWith("t.cfg:", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        Assert.True(theirs is not null, "we accept what libxlutil rejects");
        foreach (string key in keys)
            Assert.Equal(theirs[key], LibXlUtil.Render(ours.Values.GetValueOrDefault(key)));
    }

    [Fact]
    public void UpperCaseHexAndUnquotedWordsAreRefusedWithAHint()
    {
        var hex = Assert.Throws<UserErrorException>(() => XlConfigFile.Parse("dsm_mailbox = 0xFE000000\n", "g.cfg"));
        Assert.Equal("g.cfg:1: lexical error near 'FE000000' (an xl number is decimal or lower-case 0x hex; quote other values)", hex.Message);
        var word = Assert.Throws<UserErrorException>(() => XlConfigFile.Parse("x = 1\nvnvdimm_persistence = cpu\n", "g.cfg"));
        Assert.Equal("g.cfg:2: unexpected word 'cpu', expected a quoted string, a number or '[' (xl needs words quoted: \"cpu\")", word.Message);
    }

    [Fact]
    public void NumbersBuiltWithPlusEqualsAreRefusedAsXlRefusesThem()
    {
        var e = Assert.Throws<UserErrorException>(() => VnvdimmConfig.FromFile(
            XlConfigFile.Parse("dsm_port = \"0x0A\"\ndsm_port += \"18\"\n", "g.cfg"), GuestPlatform.Xen, NullLogger.Instance));
        Assert.Contains("dsm_port (line 2) is a number; xl does not allow += with numbers", e.Message, StringComparison.Ordinal);
        Assert.Equal("long:error", LibXlUtil.LongReading("dsm_port = \"0x0A\"\ndsm_port += \"18\"\n", "dsm_port"));
    }

    [Fact]
    public void PlusEqualsAppendsVnvdimms()
    {
        var c = VnvdimmConfig.FromFile(XlConfigFile.Parse(
            "vnvdimms = [ 'backend=/a' ]\nvnvdimms += [ 'backend=/b',\n  'backend=/c' ]\n", "g.cfg"), GuestPlatform.Xen, NullLogger.Instance);
        Assert.Equal(["/a", "/b", "/c"], c.Devices.Select(d => d.Backend));
    }

    public static TheoryData<string, string> RepositoryConfigs()
    {
        var data = new TheoryData<string, string>();
        string root = RepoRoot();
        foreach (string f in Directory.GetFiles(Path.Combine(root, "scripts", "examples"), "*.cfg"))
            data.Add(Path.GetRelativePath(root, f), File.ReadAllText(f));
        foreach (var (name, block) in ReadmeConfigBlocks(File.ReadAllText(Path.Combine(root, "README.md"))))
            data.Add(name, block);
        return data;
    }

    [Theory]
    [MemberData(nameof(RepositoryConfigs))]
    public void EveryShippedConfigIsValidXlAndReadsAsLibxlutilReadsIt(string name, string text)
    {
        var keys = KeysIn(text);
        var theirs = LibXlUtil.Read(text, keys);
        Assert.True(theirs is not null, $"libxlutil rejects {name}");
        var ours = XlConfigFile.Parse(text, name);
        foreach (string key in keys)
            Assert.Equal(theirs[key], LibXlUtil.Render(ours.Values.GetValueOrDefault(key)));
        Assert.NotEqual("absent", theirs["vnvdimms"]);
        // And every vNVDIMM key in it is one we read without complaint.
        VnvdimmConfig.FromFile(ours, GuestPlatform.Xen, NullLogger.Instance);
    }

    [Fact]
    public void TheReadmeHasConfigBlocks() => Assert.NotEmpty(ReadmeConfigBlocks(File.ReadAllText(Path.Combine(RepoRoot(), "README.md"))));

    // README code blocks (indented or fenced) that set vnvdimms: an xl config or a fragment of one.
    private static IEnumerable<(string Name, string Text)> ReadmeConfigBlocks(string readme)
    {
        var lines = readme.Split('\n');
        var block = new List<string>();
        int start = 0;
        bool fenced = false;
        for (int i = 0; i <= lines.Length; i++)
        {
            string? l = i < lines.Length ? lines[i] : null;
            if (l is not null && l.StartsWith("```", StringComparison.Ordinal))
            {
                if (fenced)
                {
                    foreach (var b in Emit(block, start)) yield return b;
                    block.Clear();
                }
                fenced = !fenced;
                start = i + 2;
                continue;
            }
            if (fenced && l is not null)
            {
                block.Add(l);
                continue;
            }
            if (l is not null && (l.StartsWith("    ", StringComparison.Ordinal) || l.Length == 0 && block.Count > 0))
            {
                if (block.Count == 0) start = i + 1;
                block.Add(l.Length == 0 ? "" : l[4..]);
                continue;
            }
            foreach (var b in Emit(block, start)) yield return b;
            block.Clear();
        }

        static IEnumerable<(string, string)> Emit(List<string> block, int start)
        {
            string text = string.Join("\n", block).TrimEnd() + "\n";
            if (VnvdimmsSetting().IsMatch(text))
                yield return ($"README.md:{start}", text);
        }
    }

    // Candidate keys: every lower-case word in the text (libxlutil has no way to list its settings).
    private static string[] KeysIn(string text) => [.. Word().Matches(text).Select(m => m.Value).Distinct()];

    [GeneratedRegex("[a-z][._0-9a-z]*")]
    private static partial Regex Word();

    [GeneratedRegex(@"^vnvdimms\s*\+?=", RegexOptions.Multiline)]
    private static partial Regex VnvdimmsSetting();

    private static string RepoRoot([CallerFilePath] string self = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", "..", ".."));
}
