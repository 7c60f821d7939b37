using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Which vector width the fast kernels use: the widest the runtime accelerates (it honours
/// <c>DOTNET_EnableAVX512F=0</c>, <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>). Results never depend on
/// it — every path reproduces the reference kernels bit for bit; this only says how fast they get there.
/// </summary>
public static class KernelOptions
{
    internal static bool UseVector512 => Vector512.IsHardwareAccelerated;
    internal static bool UseVector256 => Vector256.IsHardwareAccelerated;
    internal static bool UseVector128 => Vector128.IsHardwareAccelerated;
    internal static bool UseAvx2 => Avx2.IsSupported;
    /// <summary>256-bit <c>vpdpbusd</c> (AVX-VNNI): exact u8 × s8 dot products of 4 into int32.</summary>
    internal static bool UseVnni => AvxVnni.IsSupported;

    /// <summary>A one-line description of the paths in use, for logs and the fingerprint command.</summary>
    public static string Describe() =>
        $"Vector512={Vector512.IsHardwareAccelerated} Vector256={Vector256.IsHardwareAccelerated} " +
        $"Vector128={Vector128.IsHardwareAccelerated} Avx2={Avx2.IsSupported} Fma={Fma.IsSupported} AvxVnni={AvxVnni.IsSupported}";
}
