namespace XenVnvdimm.Acpi.Aml;

/// <summary><c>If (Predicate) { Terms }</c>, optionally followed by an <see cref="AmlElse"/> node.</summary>
/// <param name="Predicate">Condition.</param>
/// <param name="Terms">Body.</param>
public sealed record AmlIf(AmlNode Predicate, params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        Predicate.Encode(body);
        body.AddRange(EncodeAll(Terms));
        EncodePackage(o, [0xA0], body);
    }
}

/// <summary><c>Else { Terms }</c>; must directly follow an <see cref="AmlIf"/>.</summary>
/// <param name="Terms">Body.</param>
public sealed record AmlElse(params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o) => EncodePackage(o, [0xA1], EncodeAll(Terms));
}

/// <summary><c>While (Predicate) { Terms }</c>.</summary>
/// <param name="Predicate">Loop condition.</param>
/// <param name="Terms">Body.</param>
public sealed record AmlWhile(AmlNode Predicate, params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        Predicate.Encode(body);
        body.AddRange(EncodeAll(Terms));
        EncodePackage(o, [0xA2], body);
    }
}
