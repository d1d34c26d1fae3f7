using System.Diagnostics;
using System.Text.Json;

namespace XenVnvdimm.Tests.Xen;

/// <summary>`xen-vnvdimm abi --json` against a C program compiled with Xen 4.17's headers, field by field.</summary>
public class AbiTests
{
    private static JsonElement CliAbi()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("abi");
        psi.ArgumentList.Add("--json");
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [Fact]
    public void Every_struct_and_constant_matches_the_xen_headers()
    {
        var c = JsonDocument.Parse(CReference.AbiJson).RootElement;
        var cs = CliAbi();
        var mismatches = new List<string>();

        var cStructs = c.GetProperty("structs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        var csStructs = cs.GetProperty("structs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        foreach (var name in cStructs.Keys.Union(csStructs.Keys))
        {
            if (!cStructs.TryGetValue(name, out var cv) || !csStructs.TryGetValue(name, out var sv))
            {
                mismatches.Add($"struct {name} only in {(cStructs.ContainsKey(name) ? "C" : "C#")}");
                continue;
            }
            if (cv.GetProperty("size").GetInt32() != sv.GetProperty("size").GetInt32())
                mismatches.Add($"sizeof({name}): C {cv.GetProperty("size")} C# {sv.GetProperty("size")}");
            var cf = cv.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            var sf = sv.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            foreach (var f in cf.Keys.Union(sf.Keys))
            {
                if (!cf.TryGetValue(f, out int co) || !sf.TryGetValue(f, out int so))
                    mismatches.Add($"{name}.{f} only in {(cf.ContainsKey(f) ? "C" : "C#")}");
                else if (co != so)
                    mismatches.Add($"offsetof({name}, {f}): C {co} C# {so}");
            }
        }

        var cConst = c.GetProperty("constants").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetUInt64());
        var csConst = cs.GetProperty("constants").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetUInt64());
        foreach (var name in cConst.Keys.Union(csConst.Keys))
        {
            if (!cConst.TryGetValue(name, out ulong cv) || !csConst.TryGetValue(name, out ulong sv))
                mismatches.Add($"constant {name} only in {(cConst.ContainsKey(name) ? "C" : "C#")}");
            else if (cv != sv)
                mismatches.Add($"{name}: C 0x{cv:x} C# 0x{sv:x}");
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        // The comparison must have covered what the program marshals, not an empty document.
        Assert.True(cStructs.Count >= 25 && cConst.Count >= 60, $"only {cStructs.Count} structs, {cConst.Count} constants compared");
    }

    [Fact]
    public void Abi_command_refuses_a_non_json_request()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("abi");
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("--json", err);
    }

    [Fact]
    public void The_catalog_lists_every_abi_type_declared()
    {
        // The catalog names its types (a trimmed native program cannot discover them); a new [AbiStruct]
        // or [AbiConstants] type missing from the list would silently go unchecked.
        var abi = typeof(XenVnvdimm.DeviceModel.Xen.Abi.AbiCatalog);
        var declared = abi.Assembly.GetTypes()
            .Where(t => t.Namespace == abi.Namespace && t.CustomAttributes.Any(a => a.AttributeType.Name is "AbiStructAttribute" or "AbiConstantsAttribute"))
            .Select(t => t.Name).Order().ToList();
        Assert.NotEmpty(declared);
        Assert.Equal(declared, XenVnvdimm.DeviceModel.Xen.Abi.AbiCatalog.ListedTypes.Select(t => t.Name).Order().ToList());
    }
}
