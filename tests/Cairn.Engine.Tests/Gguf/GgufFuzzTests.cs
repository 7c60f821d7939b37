using System.Diagnostics;
using Cairn.Engine.Gguf;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Tokenization;
using Xunit.Abstractions;

namespace Cairn.Engine.Tests.Gguf;

/// <summary>
/// Bounded, deterministic fuzzing of <see cref="GgufFile"/> with mutations of every reference GGUF: each mutant must
/// either open (and then every metadata value and the first and last byte of every tensor can be read) or be refused
/// with a <see cref="GgufFormatException"/> — never another exception, a crash or a hang.
/// </summary>
public sealed class GgufFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20240601;
    private const int MaxMutationsPerFile = 150;
    private const int MinMutationsPerFile = 40;
    /// <summary>About this many bytes of mutants are written per file, so big files get fewer mutations.</summary>
    private const long BytesPerFile = 300L << 20;
    private static readonly TimeSpan PerMutationLimit = TimeSpan.FromSeconds(5);

    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-gguf-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> ReferenceFiles()
    {
        var data = new TheoryData<string>();
        foreach (string name in GgufMutator.ReferenceFileNames()) data.Add(name);
        return data;
    }

    public static int MutationCount(long fileLength) =>
        (int)Math.Clamp(BytesPerFile / Math.Max(fileLength, 1), MinMutationsPerFile, MaxMutationsPerFile);

    [Theory]
    [MemberData(nameof(ReferenceFiles))]
    public async Task Mutated_reference_file_opens_or_is_refused_cleanly(string relative)
    {
        byte[] original = File.ReadAllBytes(GgufMutator.ReferencePath(relative));
        int seed = Seed + GgufMutator.ReferenceFileNames().ToList().IndexOf(relative);
        int count = MutationCount(original.Length), opened = 0, refused = 0;
        string path = Path.Combine(_dir, Path.GetFileName(relative));
        var clock = Stopwatch.StartNew();
        foreach (var (description, bytes) in GgufMutator.Mutations(original, seed, count))
        {
            File.WriteAllBytes(path, bytes);
            Exception? e;
            try
            {
                e = await Task.Run(() => OpenAndTouch(path)).WaitAsync(PerMutationLimit);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"{relative}, {description}: still running after {PerMutationLimit.TotalSeconds} s (reproduce with GgufMutator.Mutation)");
                throw;
            }
            if (e is null) opened++;
            else if (e is GgufFormatException) refused++;
            else Assert.Fail($"{relative}, {description}: {e.GetType().Name} instead of GgufFormatException (reproduce with GgufMutator.Mutation):\n{e}");
        }
        output.WriteLine($"{relative}: {count} mutations (seed {seed}), {opened} opened, {refused} refused, {Volatile.Read(ref s_modelsRun)} models run so far, {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Opens the file and reads everything it offers; returns the exception, if any.</summary>
    private static unsafe Exception? OpenAndTouch(string path)
    {
        try
        {
            using var f = GgufFile.Open(path);
            long sum = 0;
            foreach (string key in f.MetadataKeys) sum += Touch(f.Metadata[key]) + TypedGetters(f, key);
            foreach (var t in f.Tensors)
            {
                byte* p = f.TensorData(t);
                sum += p[0] + p[t.ByteSize - 1];
                sum += f.TensorBytes(t).Length;
            }
            GC.KeepAlive(sum);
            if (LoadAndRun(f)) Interlocked.Increment(ref s_modelsRun);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// What a provider does next with a file that opened: build the tokenizer, load the model and run it on a few tokens.
    /// A mutated file may be refused (GgufFormatException) or give garbage numbers, never anything else.
    /// </summary>
    private static int s_modelsRun;

    private static bool LoadAndRun(GgufFile f)
    {
        if (f.Has("tokenizer.ggml.model"))
        {
            var tok = Tokenizer.FromGguf(f);
            int[] ids = tok.Encode("Hello wörld <s> 12 ☃", addBos: true, parseSpecial: true);
            tok.Decode(ids);
        }
        if (!f.Has("general.architecture") || f.Tensors.Count == 0) return false;
        using var model = Model.Load(f.Path);
        var t = new Transformer(model, 1);
        var logits = new float[model.Config.VocabSize];
        t.Forward(t.CreateSession(capacity: Math.Min(8, model.Config.ContextLength), trace: true), [Math.Min(1, model.Config.VocabSize - 1), 0], logits);
        return true;
    }

    /// <summary>Every typed getter on the key: each returns a value or refuses with a GgufFormatException.</summary>
    private static long TypedGetters(GgufFile f, string key)
    {
        long sum = 0;
        foreach (Func<long> get in new Func<long>[]
        {
            () => f.TryGetString(key)?.Length ?? 0,
            () => f.TryGetInteger(key) ?? 0,
            () => f.GetInt32(key, int.MinValue, int.MaxValue),
            () => (long)(f.TryGetNumber(key) ?? 0) & 1,
            () => f.TryGetBool(key) == true ? 1 : 0,
            () => f.TryGetIntArray(key)?.Length ?? 0,
            () => f.TryGetArray<string>(key)?.Length ?? 0,
            () => f.TryGetArray<float>(key)?.Length ?? 0,
        })
        {
            try
            {
                sum += get();
            }
            catch (GgufFormatException)
            {
                // A value of another type or range: refused with the format error, as a loader would see it.
            }
        }
        return sum;
    }

    private static long Touch(GgufValue v)
    {
        long sum = v.ToString().Length + (v.AsInteger() ?? 0) + (long)(v.AsNumber() is double d && double.IsFinite(d) ? 1 : 0);
        if (v.Value is GgufValue[] nested)
            foreach (var inner in nested) sum += Touch(inner);
        else if (v.Value is string[] strings)
            foreach (string s in strings) sum += s.Length;
        else if (v.Value is Array a)
            sum += a.Length;
        return sum;
    }

    [Fact]
    public void Mutations_are_deterministic_and_reproducible_one_by_one()
    {
        byte[] original = File.ReadAllBytes(ReferenceData.Vocab("ggml-vocab-llama-spm.gguf"));
        var all = GgufMutator.Mutations(original, 7, 12).ToList();
        var again = GgufMutator.Mutations(original, 7, 12).ToList();
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal(all[i].Description, again[i].Description);
            Assert.Equal(all[i].Bytes, again[i].Bytes);
            var one = GgufMutator.Mutation(original, 7, i);
            Assert.Equal(all[i].Description, one.Description);
            Assert.Equal(all[i].Bytes, one.Bytes);
        }
        Assert.Contains(all, m => m.Description.Contains("set ", StringComparison.Ordinal));
        Assert.Contains(all, m => !m.Bytes.AsSpan().SequenceEqual(original));
    }
}
