using System.CommandLine;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>Validation shared by the commands' option definitions; errors name the option and the value.</summary>
internal static class OptionRules
{
    /// <summary>Accepts only <paramref name="values"/>: <c>--platform 'kvm' must be xen or qemu</c> otherwise.</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] values)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && !values.Contains(r.Tokens[^1].Value, StringComparer.Ordinal))
                r.AddError($"{option.Name} '{r.Tokens[^1].Value}' must be {string.Join(", ", values[..^1])} or {values[^1]}");
        });
        return option;
    }
}
