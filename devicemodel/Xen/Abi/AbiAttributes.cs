namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>Marks a static class whose constants <c>xen-vnvdimm abi</c> reports.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class AbiConstantsAttribute : Attribute;

/// <summary>Marks a struct whose size and field offsets <c>xen-vnvdimm abi</c> reports.</summary>
[AttributeUsage(AttributeTargets.Struct)]
internal sealed class AbiStructAttribute : Attribute;
