using System.Security.Cryptography;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Node.Provider;
using Cairn.Node.Rpc;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Google.Protobuf;
using Grpc.Core;
using SignedAssignment = Cairn.Protocol.Messages.StageAssignment;

namespace Cairn.Node.Tests.Provider;

/// <summary>
/// A flexible stage's <c>Load</c> in process (the real-process refusals are in Gateway/PlannedPipelineTests): a stage that
/// has not learned its gateway at registration obeys no assignment, however well signed.
/// </summary>
public sealed class StageLoadTests
{
    [Fact]
    public async Task A_stage_that_does_not_know_its_gateway_yet_refuses_every_assignment_and_keeps_its_range()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-stage-load-{Guid.NewGuid():N}"[..26] + ".gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = GgmlType.Q8_0, Dim = 64, HiddenDim = 192, Layers = 4, ContextLength = 64, Seed = 4 });
        try
        {
            ServedModel Load(int first, int end)
            {
                var m = ServedModel.Load(path, null, null, 1, layers: (first, end));
                m.Flexible = true;
                return m;
            }
            var initial = Load(0, 2);
            var host = StageHost.Calibrate(initial, Load, null, flexible: true, slowdown: 1);
            using var state = new ProviderState(Secp256k1Key.Generate(RandomNumberGenerator.Create()), [initial], 0);
            var service = new StageService(state, new StageSessions(host), TimeProvider.System);
            using var gateway = Secp256k1Key.Generate(RandomNumberGenerator.Create());
            var request = new StageLoadRequest
            {
                LayerStart = 1,
                LayerEnd = 3,
                Assignment = ByteString.CopyFrom(new SignedAssignment
                {
                    ModelHash = new Hash256(initial.Hash),
                    FirstLayer = 1,
                    EndLayer = 3,
                    Stage = state.Id,
                    IssuedMs = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    Gateway = gateway.Address,
                }.Sign(gateway).Encode()),
            };

            Assert.Null(state.Gateway);
            var refused = await Assert.ThrowsAsync<RpcException>(() => service.Load(request, new TestCallContext()));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("not registered with its gateway yet", refused.Status.Detail, StringComparison.Ordinal);
            Assert.Equal((0, 2), (state.Models[0].Model.FirstLayer, state.Models[0].Model.EndLayer));
            Assert.Equal(0UL, host.LastAssignmentMs);

            // Once registered with that gateway, the same order is obeyed (only the missing gateway stopped it).
            state.Gateway = gateway.Address;
            var loaded = await service.Load(request, new TestCallContext());
            Assert.Equal((1, 3), (loaded.LayerStart, loaded.LayerEnd));
            Assert.Equal((1, 3), (state.Models[0].Model.FirstLayer, state.Models[0].Model.EndLayer));
            Assert.Equal(SignedAssignment.Decode(request.Assignment.Span).IssuedMs, host.LastAssignmentMs);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
