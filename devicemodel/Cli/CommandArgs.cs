namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// Minimal option reader for <c>--name VALUE</c> and <c>--flag</c> arguments. Every option a command
/// does not take is a user error naming the option.
/// </summary>
internal sealed class CommandArgs
{
    private readonly string _command;
    private readonly List<string> _rest;
    private static readonly string[] s_global = ["-v", "--verbose", "--quiet"];

    public CommandArgs(string command, string[] args)
    {
        _command = command;
        _rest = args.Where(a => !s_global.Contains(a)).ToList();
    }

    /// <summary>Takes <c>--name VALUE</c> (or <c>--name=VALUE</c>); null when absent.</summary>
    public string? Option(string name)
    {
        for (int i = 0; i < _rest.Count; i++)
        {
            if (_rest[i] == name)
            {
                if (i + 1 >= _rest.Count)
                    throw new UserErrorException($"option {name} needs a value");
                string v = _rest[i + 1];
                _rest.RemoveRange(i, 2);
                return v;
            }
            if (_rest[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                string v = _rest[i][(name.Length + 1)..];
                _rest.RemoveAt(i);
                return v;
            }
        }
        return null;
    }

    /// <summary>Takes a required option.</summary>
    public string Required(string name) => Option(name) ?? throw new UserErrorException($"missing required option {name}");

    /// <summary>Takes a boolean flag.</summary>
    public bool Flag(string name) => _rest.Remove(name);

    /// <summary>Takes the remaining positional arguments; fails on any leftover option.</summary>
    public IReadOnlyList<string> Positionals()
    {
        var unknown = _rest.FirstOrDefault(a => a.StartsWith('-') && a.Length > 1);
        if (unknown is not null)
            throw new UserErrorException($"unknown option '{unknown}' for '{_command}'");
        var p = _rest.ToList();
        _rest.Clear();
        return p;
    }

    /// <summary>Fails if anything is left unconsumed.</summary>
    public void End()
    {
        var p = Positionals();
        if (p.Count > 0)
            throw new UserErrorException($"unexpected argument '{p[0]}' for '{_command}'");
    }
}
