namespace XenVnvdimm.DeviceModel.Config;

/// <summary>
/// Reads an xl config file exactly as Xen's libxlutil does (what <c>xl create</c> uses; its lexer
/// libxlu_cfg_l.l and grammar libxlu_cfg_y.y): <c>KEY = VALUE</c> and <c>KEY += VALUE</c>
/// settings ended by a newline or <c>;</c>, where a value is a quoted string, a number
/// (<c>[0-9][0-9a-fx]*</c>: decimal or lower-case 0x hex, kept as text) or a bracketed list of
/// values that may span lines and hold <c>#</c> comments. What libxlutil rejects is rejected
/// here, so a config this class accepts is one xl accepts too.
/// </summary>
public sealed class XlConfigFile
{
    private readonly Dictionary<string, XlValue> _values;

    private XlConfigFile(Dictionary<string, XlValue> values) => _values = values;

    /// <summary>All settings, in file order of first appearance; a later setting wins, <c>+=</c> appends.</summary>
    public IReadOnlyDictionary<string, XlValue> Values => _values;

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> names it in errors.</summary>
    public static XlConfigFile Parse(string text, string source)
    {
        var values = new Dictionary<string, XlValue>(StringComparer.Ordinal);
        var lexer = new XlLexer(text, source);
        var t = lexer.Next();
        while (true)
        {
            while (t.Kind is XlToken.Newline or XlToken.Semicolon)
                t = lexer.Next();
            if (t.Kind == XlToken.End)
                break;
            if (t.Kind != XlToken.Ident)
                throw lexer.Syntax(t, "a setting name");
            string key = t.Text;
            var op = lexer.Next();
            if (op.Kind is not (XlToken.Assign or XlToken.Add))
                throw lexer.Syntax(op, "'=' or '+='");
            t = lexer.Next();
            var value = ReadValue(lexer, key, ref t);
            Store(values, key, value, op.Kind == XlToken.Add, lexer, op);
            // The last setting of a file needs no newline (grammar: file: stmts assignment).
            if (t.Kind is not (XlToken.Newline or XlToken.Semicolon or XlToken.End))
                throw lexer.Syntax(t, "a newline or ';'");
        }
        return new XlConfigFile(values);
    }

    // value: STRING | NUMBER | '[' nlok valuelist ']'; on return t is the token after the value.
    private static XlValue ReadValue(XlLexer lexer, string key, ref XlTokenValue t)
    {
        int line = t.Line;
        if (t.Kind is XlToken.String or XlToken.Number)
        {
            var scalar = new XlValue(t.Text, null, line, false);
            t = lexer.Next();
            return scalar;
        }
        if (t.Kind != XlToken.Open)
            throw lexer.Syntax(t, "a quoted string, a number or '['");
        var items = new List<XlValue>();
        t = SkipNewlines(lexer, lexer.Next());
        while (t.Kind != XlToken.Close)
        {
            if (t.Kind == XlToken.End)
                throw lexer.Error(line, $"unterminated list for '{key}'");
            items.Add(ReadValue(lexer, key, ref t));
            t = SkipNewlines(lexer, t);
            if (t.Kind == XlToken.Close)
                break;
            if (t.Kind == XlToken.End)
                throw lexer.Error(line, $"unterminated list for '{key}'");
            if (t.Kind != XlToken.Comma)
                throw lexer.Syntax(t, "',' or ']'");
            t = SkipNewlines(lexer, lexer.Next());
        }
        t = lexer.Next();
        return new XlValue(null, items, line, false);
    }

    private static XlTokenValue SkipNewlines(XlLexer lexer, XlTokenValue t)
    {
        while (t.Kind == XlToken.Newline)
            t = lexer.Next();
        return t;
    }

    // libxlutil's xlu__cfg_set_store: '+=' joins two strings or two lists, never a string and a list.
    private static void Store(Dictionary<string, XlValue> values, string key, XlValue value, bool add, XlLexer lexer, XlTokenValue op)
    {
        if (add && values.TryGetValue(key, out var previous))
        {
            if ((previous.Scalar is null) != (value.Scalar is null))
                throw lexer.Error(op.Line, $"'{key} +=' cannot add a list to a string or a string to a list");
            value = value.Scalar is null
                ? value with { Items = [.. previous.Items!, .. value.Items!] }
                : value with { Scalar = previous.Scalar + value.Scalar };
        }
        values[key] = value with { Appended = add };
    }
}

/// <summary>One xl config value: a scalar (string or number, as text) or a list of values.</summary>
/// <param name="Scalar">The scalar, or null for a list.</param>
/// <param name="Items">The list's values, or null for a scalar.</param>
/// <param name="Line">Line where the value starts.</param>
/// <param name="Appended">Whether the setting was made with <c>+=</c> (libxlutil then refuses it as a number).</param>
public sealed record XlValue(string? Scalar, IReadOnlyList<XlValue>? Items, int Line, bool Appended)
{
    /// <summary>The list's items as strings, or null for a scalar; a nested list is refused naming <paramref name="key"/>.</summary>
    public IReadOnlyList<string>? StringList(string key) =>
        Items?.Select((v, i) => v.Scalar ?? throw new UserErrorException($"{key}[{i}] (line {v.Line}) must be a string, not a list")).ToList();
}
