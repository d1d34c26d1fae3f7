using Xunit;

namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>Shares one guest boot between every test class that needs the guest-made namespaces.</summary>
[CollectionDefinition(Name)]
public sealed class GuestNamespacesCollection : ICollectionFixture<GuestNamespaces>
{
    public const string Name = "guest-namespaces";
}
