using System.Text;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>Token kinds of libxlutil's config lexer.</summary>
internal enum XlToken
{
    Ident, Number, String, Comma, Open, Close, Add, Assign, Semicolon, Newline, End,
}

/// <summary>One token: its kind, text (dequoted for strings) and line.</summary>
internal readonly record struct XlTokenValue(XlToken Kind, string Text, int Line);

/// <summary>
/// libxlutil's config lexer (libxlu_cfg_l.l, flex: longest match, first rule wins a tie) and its
/// string dequoting (xlu__cfgl_dequote), quirks included, because a config must mean the same to
/// us as to xl: only space and tab are blanks (a CR is an error), a comment needs its newline,
/// names are lower case, numbers are <c>[0-9][0-9a-fx]*</c>, any other character is a lexical
/// error except as the file's very last character, which flex drops silently at end of input.
/// </summary>
internal sealed class XlLexer(string text, string source)
{
    private int _pos;
    private int _line = 1;

    public UserErrorException Error(int line, string message) => new($"{source}:{line}: {message}");

    public UserErrorException Syntax(XlTokenValue t, string expected) => t.Kind switch
    {
        XlToken.Ident => Error(t.Line, $"unexpected word '{t.Text}', expected {expected} (xl needs words quoted: \"{t.Text}\")"),
        XlToken.End => Error(t.Line, $"unexpected end of file, expected {expected}"),
        XlToken.Newline => Error(t.Line, $"unexpected end of line, expected {expected}"),
        _ => Error(t.Line, $"unexpected '{t.Text}', expected {expected}"),
    };

    public XlTokenValue Next()
    {
        while (_pos < text.Length && text[_pos] is ' ' or '\t')
            _pos++;
        if (_pos >= text.Length)
            return new(XlToken.End, "", _line);
        int start = _pos, line = _line;
        char c = text[_pos];
        switch (c)
        {
            case >= 'a' and <= 'z':
                _pos++;
                while (_pos < text.Length && text[_pos] is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '.')
                    _pos++;
                return new(XlToken.Ident, text[start.._pos], line);
            case >= '0' and <= '9':
                _pos++;
                while (_pos < text.Length && text[_pos] is (>= '0' and <= '9') or (>= 'a' and <= 'f') or 'x')
                    _pos++;
                return new(XlToken.Number, text[start.._pos], line);
            case ',': _pos++; return new(XlToken.Comma, ",", line);
            case '[': _pos++; return new(XlToken.Open, "[", line);
            case ']': _pos++; return new(XlToken.Close, "]", line);
            case ';': _pos++; return new(XlToken.Semicolon, ";", line);
            case '=': _pos++; return new(XlToken.Assign, "=", line);
            case '+' when _pos + 1 < text.Length && text[_pos + 1] == '=':
                _pos += 2;
                return new(XlToken.Add, "+=", line);
            case '\n':
                _pos++;
                _line++;
                return new(XlToken.Newline, "\n", line);
            case '#':
                int nl = text.IndexOf('\n', _pos);
                if (nl < 0)
                    break;
                _pos = nl + 1;
                _line++;
                return new(XlToken.Newline, "\n", line);
            case '\'' or '"':
                int end = StringEnd(c);
                if (end < 0)
                    break;
                _pos = end + 1;
                return new(XlToken.String, Dequote(text[(start + 1)..end], line), line);
        }
        // flex's '.' rule: the lexerr state reports the rest of the run, but a last character
        // with nothing after it reaches end of input first and is dropped without an error.
        if (_pos + 1 >= text.Length)
        {
            _pos = text.Length;
            return new(XlToken.End, "", line);
        }
        int runEnd = _pos + 1;
        while (runEnd < text.Length && text[runEnd] is not (' ' or '\t' or '\n'))
            runEnd++;
        string run = text[_pos..runEnd];
        string hint = c is >= 'A' and <= 'Z' && start > 0 && text[start - 1] is (>= '0' and <= '9') or (>= 'a' and <= 'f') or 'x'
            ? " (an xl number is decimal or lower-case 0x hex; quote other values)"
            : c == '#' ? " (a comment needs a newline after it)"
            : c == '\r' ? " (xl does not accept CR line ends)"
            : c is '\'' or '"' ? " (unterminated string)"
            : "";
        throw Error(line, $"lexical error near '{run.TrimEnd('\r')}'{hint}");
    }

    // The closing quote's index for Q([^Q\\\n]|\\.)*Q starting at _pos, or -1.
    private int StringEnd(char quote)
    {
        for (int i = _pos + 1; i < text.Length; i++)
        {
            char c = text[i];
            if (c == quote)
                return i;
            if (c == '\n')
                return -1;
            if (c == '\\')
            {
                if (i + 1 >= text.Length || text[i + 1] == '\n')
                    return -1;
                i++;
            }
        }
        return -1;
    }

    // xlu__cfgl_dequote, including what it really does with numeric escapes: \x is always refused
    // (it skips a character, then demands more than its two-digit buffer can hold), and a
    // backslash-octal digit consumes what strtoul reads in base 10 from the next three characters,
    // demands at least two of them and adds nothing to the string.
    private string Dequote(string body, int line)
    {
        var sb = new StringBuilder(body.Length);
        for (int p = 0; p < body.Length;)
        {
            char c = body[p++];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            char nc = body[p++];
            switch (nc)
            {
                case '"' or '\'' or '\\': sb.Append(nc); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x':
                    throw Error(line, $"invalid \\x escape in the string \"{body}\" (libxlutil accepts none)");
                case >= '0' and <= '7':
                    // The closing quote ends the buffer early, exactly as in the C code.
                    string buf = body.Substring(p, Math.Min(3, body.Length - p)) + "\"";
                    int used = StrtoulLength(buf[..Math.Min(3, buf.Length)]);
                    if (used <= 1)
                        throw Error(line, $"invalid octal escape in the string \"{body}\"");
                    p += used;
                    break;
                default:
                    throw Error(line, $"invalid escape '\\{nc}' in the string \"{body}\"");
            }
        }
        return sb.ToString();
    }

    // How many characters strtoul(s, &ep, 10) consumes: blanks, a sign, digits; 0 without digits.
    private static int StrtoulLength(string s)
    {
        int i = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\r' or '\v' or '\f')
            i++;
        if (i < s.Length && s[i] is '+' or '-')
            i++;
        int digits = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
            i++;
        return i == digits ? 0 : i;
    }
}
