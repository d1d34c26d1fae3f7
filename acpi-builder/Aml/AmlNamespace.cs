namespace XenVnvdimm.Acpi.Aml;

/// <summary><c>Scope (Name) { Terms }</c>.</summary>
/// <param name="Name">Scope path.</param>
/// <param name="Terms">Contained terms.</param>
public sealed record AmlScope(AmlName Name, params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        Name.Encode(body);
        body.AddRange(EncodeAll(Terms));
        EncodePackage(o, [0x10], body);
    }
}

/// <summary><c>Device (Name) { Terms }</c>.</summary>
/// <param name="Name">Device name.</param>
/// <param name="Terms">Contained terms.</param>
public sealed record AmlDevice(AmlName Name, params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        Name.Encode(body);
        body.AddRange(EncodeAll(Terms));
        EncodePackage(o, [0x5B, 0x82], body);
    }
}

/// <summary><c>Method (Name, ArgCount, [Not]Serialized) { Terms }</c>.</summary>
/// <param name="Name">Method name.</param>
/// <param name="ArgCount">Number of arguments (0..7).</param>
/// <param name="Serialized">Whether the method is serialized.</param>
/// <param name="Terms">Method body.</param>
public sealed record AmlMethod(AmlName Name, int ArgCount, bool Serialized, params AmlNode[] Terms) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        if (ArgCount is < 0 or > 7)
            throw new ArgumentOutOfRangeException(nameof(ArgCount));
        var body = new List<byte>();
        Name.Encode(body);
        body.Add((byte)(ArgCount | (Serialized ? 0x08 : 0)));
        body.AddRange(EncodeAll(Terms));
        EncodePackage(o, [0x14], body);
    }
}

/// <summary><c>Name (Name, Value)</c>.</summary>
/// <param name="Name">Object name.</param>
/// <param name="Value">Data object.</param>
public sealed record AmlNamed(AmlName Name, AmlNode Value) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.Add(0x08);
        Name.Encode(o);
        Value.Encode(o);
    }
}

/// <summary><c>Mutex (Name, SyncLevel)</c>.</summary>
/// <param name="Name">Mutex name.</param>
/// <param name="SyncLevel">Synchronization level 0..15.</param>
public sealed record AmlMutex(AmlName Name, byte SyncLevel) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.Add(0x5B); o.Add(0x01);
        Name.Encode(o);
        o.Add((byte)(SyncLevel & 0x0F));
    }
}
