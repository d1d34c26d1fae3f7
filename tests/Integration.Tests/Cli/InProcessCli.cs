using XenVnvdimm.DeviceModel.Cli;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Tests that swap the process's Console writers run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}

/// <summary>
/// Runs the command line in this process through <see cref="CommandTable.Dispatch"/>, the entry point
/// Program.cs calls, capturing stdout and stderr. An exception escaping Dispatch is what would abort
/// the real program (exit 134 with a stack trace), so it is reported as such.
/// </summary>
internal static class InProcessCli
{
    private static readonly object s_gate = new();

    public static ProcessResult Run(string[] argv, int timeoutSeconds = 60)
    {
        lock (s_gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(TextWriter.Synchronized(o));
            Console.SetError(TextWriter.Synchronized(e));
            try
            {
                var run = Task.Run(() => CommandTable.Dispatch(argv));
                if (!run.Wait(TimeSpan.FromSeconds(timeoutSeconds)))
                    Assert.Fail($"xen-vnvdimm {Show(argv)} did not finish within {timeoutSeconds} s");
                return new ProcessResult(run.Result, o.ToString(), e.ToString());
            }
            catch (AggregateException x)
            {
                Assert.Fail($"xen-vnvdimm {Show(argv)} let an exception escape (the program would abort with exit 134): {x.InnerException}");
                throw;
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

    public static string Show(IEnumerable<string> argv) => string.Join(' ', argv.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));
}
