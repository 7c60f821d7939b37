using Cairn.Engine.Kernels;

namespace Cairn.Engine.Tests.Kernels;

public class KernelFingerprintTests
{
    [Fact]
    public void Fast_kernels_give_the_reference_fingerprint()
    {
        string fast = KernelFingerprint.Compute();
        Assert.Matches("^[0-9a-f]{64}$", fast);
        Assert.Equal(KernelFingerprint.Compute(referenceOnly: true), fast);
    }

    [Fact]
    public void Fingerprint_is_stable_across_calls()
    {
        Assert.Equal(KernelFingerprint.Compute(), KernelFingerprint.Compute());
    }
}
