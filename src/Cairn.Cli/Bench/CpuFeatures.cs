using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels;

namespace Cairn.Cli.Bench;

/// <summary>The instruction-set features the runtime enables (and so the kernels may use) in this process.</summary>
internal static class CpuFeatures
{
    public static string[] InUse()
    {
        var list = new List<string>();
        void Add(bool on, string name)
        {
            if (on) list.Add(name);
        }
        Add(Avx512F.IsSupported, "AVX512F");
        Add(Avx512BW.IsSupported, "AVX512BW");
        Add(Avx512Vbmi.IsSupported, "AVX512VBMI");
        Add(AvxVnni.IsSupported, "AVXVNNI");
        Add(Avx2.IsSupported, "AVX2");
        Add(Fma.IsSupported, "FMA");
        Add(Sse41.IsSupported, "SSE4.1");
        Add(Vector128.IsHardwareAccelerated, "Vector128");
        if (list.Count == 0) list.Add("scalar");
        return list.ToArray();
    }

    public static string Kernels => KernelOptions.Describe();
}
