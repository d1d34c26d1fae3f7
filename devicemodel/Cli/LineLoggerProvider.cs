using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// Writes each log entry as one line, synchronously, so the last lines before an exit are never
/// lost in a queue. No event ids, no scopes, no colour; exceptions as their type and message.
/// </summary>
internal sealed class LineLoggerProvider(TextWriter output, bool journal) : ILoggerProvider
{
    private readonly object _gate = new();

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    /// <inheritdoc/>
    public void Dispose() { }

    /// <summary>The console's level tag (the names Microsoft.Extensions.Logging's console uses).</summary>
    internal static string Tag(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    /// <summary>The syslog priority journald reads from a <c>&lt;N&gt;</c> prefix.</summary>
    internal static int Priority(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        LogLevel.Error => 3,
        _ => 2,
    };

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        if (exception is not null)
            message += $": {exception.GetType().Name}: {exception.Message}";
        // One entry, one line: journald would split a multi-line entry into entries without a priority.
        message = message.ReplaceLineEndings(" | ");
        string line = journal
            ? $"<{Priority(level)}>{category}: {message}"
            : $"{DateTime.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {Tag(level)}: {category}: {message}";
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class LineLogger(LineLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}
