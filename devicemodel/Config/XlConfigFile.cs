using System.Text;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>
/// Reads an xl.cfg-style file (xl.cfg(5)): <c>KEY = VALUE</c> settings where a value is a
/// quoted string, a number or a bracketed list of strings, with <c>#</c> comments and lists
/// that may span lines. Keys this program does not use are kept and ignored by callers.
/// </summary>
public sealed class XlConfigFile
{
    private readonly Dictionary<string, XlValue> _values;

    private XlConfigFile(Dictionary<string, XlValue> values) => _values = values;

    /// <summary>All settings, in file order of first appearance (a later setting wins).</summary>
    public IReadOnlyDictionary<string, XlValue> Values => _values;

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> names it in errors.</summary>
    public static XlConfigFile Parse(string text, string source)
    {
        var values = new Dictionary<string, XlValue>(StringComparer.Ordinal);
        var r = new Reader(text, source);
        while (true)
        {
            r.SkipSpaceAndComments(newlines: true);
            if (r.AtEnd)
                break;
            int line = r.Line;
            string key = r.ReadIdentifier();
            r.SkipSpaceAndComments(newlines: false);
            r.Expect('=');
            r.SkipSpaceAndComments(newlines: false);
            values[key] = r.ReadValue(key, line);
            r.SkipSpaceAndComments(newlines: false);
            if (!r.AtEnd && r.Peek is not ('\n' or ';'))
                throw r.Error($"unexpected '{r.Peek}' after the value of '{key}'");
            if (!r.AtEnd)
                r.Next();
        }
        return new XlConfigFile(values);
    }

    private sealed class Reader(string text, string source)
    {
        private int _pos;

        public int Line { get; private set; } = 1;
        public bool AtEnd => _pos >= text.Length;
        public char Peek => text[_pos];

        public char Next()
        {
            char c = text[_pos++];
            if (c == '\n')
                Line++;
            return c;
        }

        public UserErrorException Error(string message) => new($"{source}:{Line}: {message}");

        public void SkipSpaceAndComments(bool newlines)
        {
            while (!AtEnd)
            {
                char c = Peek;
                if (c == '#')
                    while (!AtEnd && Peek != '\n') Next();
                else if (c is ' ' or '\t' or '\r' || (newlines && c is '\n' or ';'))
                    Next();
                else
                    break;
            }
        }

        public void Expect(char c)
        {
            if (AtEnd || Peek != c)
                throw Error($"expected '{c}'");
            Next();
        }

        public string ReadIdentifier()
        {
            int start = _pos;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek is '_' or '.' or '-'))
                Next();
            if (_pos == start)
                throw Error($"expected a setting name, found '{Peek}'");
            return text[start.._pos];
        }

        public XlValue ReadValue(string key, int line)
        {
            if (AtEnd)
                throw Error($"missing value for '{key}'");
            if (Peek == '[')
            {
                Next();
                var items = new List<string>();
                while (true)
                {
                    SkipSpaceAndComments(newlines: true);
                    if (AtEnd)
                        throw Error($"unterminated list for '{key}' (opened on line {line})");
                    if (Peek == ']') { Next(); break; }
                    items.Add(ReadScalar(key));
                    SkipSpaceAndComments(newlines: true);
                    if (!AtEnd && Peek == ',') { Next(); continue; }
                    SkipSpaceAndComments(newlines: true);
                    if (AtEnd || Peek != ']')
                        throw Error($"expected ',' or ']' in the list for '{key}'");
                }
                return new XlValue(null, items, line);
            }
            return new XlValue(ReadScalar(key), null, line);
        }

        private string ReadScalar(string key)
        {
            if (Peek is '\'' or '"')
            {
                char quote = Next();
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd || Peek == '\n')
                        throw Error($"unterminated string in '{key}'");
                    char c = Next();
                    if (c == quote)
                        return sb.ToString();
                    if (c == '\\' && !AtEnd)
                        c = Next();
                    sb.Append(c);
                }
            }
            int start = _pos;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek is '_' or '.' or '-' or '+'))
                Next();
            if (_pos == start)
                throw Error($"expected a value for '{key}', found '{Peek}'");
            return text[start.._pos];
        }
    }
}

/// <summary>One xl.cfg value: a scalar or a list of strings.</summary>
/// <param name="Scalar">The scalar, or null for a list.</param>
/// <param name="List">The list items, or null for a scalar.</param>
/// <param name="Line">Line where the setting starts.</param>
public sealed record XlValue(string? Scalar, IReadOnlyList<string>? List, int Line);
