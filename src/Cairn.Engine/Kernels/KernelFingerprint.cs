using System.Buffers.Binary;
using System.Security.Cryptography;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// SHA-256 over the output bits of every kernel run on fixed pseudo-random inputs (xorshift64, no System.Random).
/// The same on every machine, instruction set and thread count, or the determinism contract is broken; the
/// <c>referenceOnly</c> form routes every call to the scalar reference kernels and must give the same hex.
/// </summary>
public static class KernelFingerprint
{
    private static readonly GgmlType[] Types =
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    /// <summary>The fingerprint of the fast kernels as this process runs them.</summary>
    public static string Compute() => Compute(referenceOnly: false);

    internal static string Compute(bool referenceOnly)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var rng = new XorShift64(0x5EED_CA1A_0001UL);
        var sink = new Sink(hash);

        for (int n = 0; n <= 67; n++) DotCase(rng, sink, n, referenceOnly);
        DotCase(rng, sink, 1001, referenceOnly);

        foreach (GgmlType type in Types)
        {
            int blockSize = GgmlTypeInfo.BlockSize(type);
            // 32-element blocks: every row length from 0 to 288 (the whole-block Q4_0 order, the 128-bit path's tails).
            int[] counts = blockSize == 32 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 3, 5];
            foreach (int blocks in counts)
            {
                RowCase(rng, sink, type, blockSize == 1 ? 37 * blocks : blockSize * blocks, referenceOnly);
            }
        }

        foreach (GgmlType type in Types)
        {
            int blockSize = GgmlTypeInfo.BlockSize(type);
            MultiCase(rng, sink, type, blockSize == 1 ? 83 : 2 * blockSize, referenceOnly);
        }

        foreach (GgmlType type in new[] { GgmlType.Q4_K, GgmlType.Q6_K }) KQuantRowsCase(rng, sink, type, referenceOnly);
        ElementwiseCases(rng, sink, referenceOnly);
        DoubleCases(sink);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void DotCase(XorShift64 rng, Sink sink, int n, bool referenceOnly)
    {
        float[] a = rng.Floats(n, 2f), b = rng.Floats(n, 2f);
        sink.Add(referenceOnly ? ReferenceDot.F32(a, b) : Dot.F32(a, b));
    }

    private static void RowCase(XorShift64 rng, Sink sink, GgmlType type, int cols, bool referenceOnly)
    {
        byte[] row = RandomRow(rng, type, cols);
        float[] x = rng.Floats(cols, 3f);
        bool quantized = RowDot.NeedsQuantizedActivation(type);
        var xq = new sbyte[quantized ? cols : 0];
        var scales = new float[xq.Length / 32];
        var sums = new int[xq.Length / 32];
        if (quantized && referenceOnly) ReferenceActivationQuantizer.Quantize(x, xq, scales, sums);
        else if (quantized) ActivationQuantizer.Quantize(x, xq, scales, sums);
        foreach (sbyte q in xq) sink.Add(q);
        sink.Add(scales);
        foreach (int s in sums) sink.Add(s);
        sink.Add(referenceOnly
            ? ReferenceRowDot.Compute(type, row, cols, x, xq, scales, sums)
            : RowDot.Compute(type, row, cols, x, xq, scales, sums));
        var w = new float[cols];
        if (referenceOnly) ReferenceDequantize.Row(type, row, w);
        else Dequantize.Row(type, row, w);
        sink.Add(w);
    }

    /// <summary>7 rows × 13 tokens through the multi-row (decode) and rows × tokens (prefill) kernels, or the reference per output.</summary>
    private static void MultiCase(XorShift64 rng, Sink sink, GgmlType type, int cols, bool referenceOnly)
    {
        const int rows = 7, tokens = 13;
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols), blocks = cols / 32;
        byte[] w = RandomRow(rng, type, rows * cols);
        float[] x = rng.Floats(tokens * cols, 3f);
        bool quantized = RowDot.NeedsQuantizedActivation(type);
        var xq = new sbyte[quantized ? tokens * cols : 0];
        var scales = new float[quantized ? tokens * blocks : 0];
        var sums = new int[quantized ? tokens * blocks : 0];
        for (int t = 0; quantized && t < tokens; t++)
        {
            if (referenceOnly) ReferenceActivationQuantizer.Quantize(x.AsSpan(t * cols, cols), xq.AsSpan(t * cols, cols), scales.AsSpan(t * blocks, blocks), sums.AsSpan(t * blocks, blocks));
            else ActivationQuantizer.Quantize(x.AsSpan(t * cols, cols), xq.AsSpan(t * cols, cols), scales.AsSpan(t * blocks, blocks), sums.AsSpan(t * blocks, blocks));
        }
        var y = new float[tokens * rows];
        var decode = new float[rows];
        for (int t = 0; t < tokens; t++)
        {
            ReadOnlySpan<float> xt = x.AsSpan(t * cols, cols);
            ReadOnlySpan<sbyte> qt = quantized ? xq.AsSpan(t * cols, cols) : default;
            ReadOnlySpan<float> st = quantized ? scales.AsSpan(t * blocks, blocks) : default;
            ReadOnlySpan<int> mt = quantized ? sums.AsSpan(t * blocks, blocks) : default;
            for (int r = 0; referenceOnly && r < rows; r++)
                decode[r] = ReferenceRowDot.Compute(type, w.AsSpan(r * rowBytes, rowBytes), cols, xt, qt, st, mt);
            if (!referenceOnly) RowDot.ComputeRows(type, w, rows, cols, quantized ? default : xt, qt, st, mt, decode);
            sink.Add(decode);
            decode.CopyTo(y.AsSpan(t * rows, rows));
        }

        if (!referenceOnly && quantized) RowDot.ComputeRowsTokens(type, w, rows, cols, tokens, xq, scales, sums, y, rows);
        else if (!referenceOnly) RowDot.ComputeRowsTokensFloat(type, w, rows, cols, tokens, x, y, rows);
        sink.Add(y);
    }

    /// <summary>21 K-quant rows of 2 super-blocks through the decode kernel (passes of 8, 8 and 4 rows and one row), or the reference per row.</summary>
    private static void KQuantRowsCase(XorShift64 rng, Sink sink, GgmlType type, bool referenceOnly)
    {
        const int rows = 21, cols = 512;
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
        byte[] w = RandomRow(rng, type, rows * cols);
        float[] x = rng.Floats(cols, 3f);
        var xq = new sbyte[cols];
        var scales = new float[cols / 32];
        var sums = new int[cols / 32];
        ActivationQuantizer.Quantize(x, xq, scales, sums);
        var y = new float[rows];
        for (int r = 0; referenceOnly && r < rows; r++) y[r] = ReferenceRowDot.Compute(type, w.AsSpan(r * rowBytes, rowBytes), cols, x, xq, scales, sums);
        if (!referenceOnly) RowDot.ComputeRows(type, w, rows, cols, default, xq, scales, sums, y);
        sink.Add(y);
    }

    /// <summary>Random row bytes whose f16 scale fields are finite numbers between 2^-10 and 1 (either sign).</summary>
    internal static byte[] RandomRow(XorShift64 rng, GgmlType type, int cols)
    {
        var row = new byte[GgmlTypeInfo.RowBytes(type, cols)];
        rng.Fill(row);
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4 * i), rng.Float(2f));
                break;
            case GgmlType.F16:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), rng.SaneHalfBits());
                break;
            case GgmlType.BF16:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(rng.Float(2f)) >> 16));
                break;
            default:
                int blockBytes = GgmlTypeInfo.BlockBytes(type);
                int[] halfOffsets = type switch
                {
                    GgmlType.Q4_K => [0, 2],
                    GgmlType.Q6_K => [208],
                    _ => [0],
                };
                for (int at = 0; at < row.Length; at += blockBytes)
                {
                    foreach (int o in halfOffsets) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(at + o), rng.SaneHalfBits());
                }

                break;
        }

        return row;
    }

    private static void ElementwiseCases(XorShift64 rng, Sink sink, bool referenceOnly)
    {
        foreach (int n in new[] { 0, 1, 7, 16, 33, 100, 257 })
        {
            float[] x = rng.Floats(n, 100f), y = new float[n];
            if (referenceOnly) ReferenceDetMath.Exp(x, y); else DetMath.Exp(x, y);
            sink.Add(y);

            float[] gate = rng.Floats(n, 10f), up = rng.Floats(n, 2f);
            if (referenceOnly) ReferenceDetMath.SiluMul(gate, up); else DetMath.SiluMul(gate, up);
            sink.Add(gate);

            float[] w = rng.Floats(n, 1f);
            if (referenceOnly) ReferenceRmsNorm.Apply(x, w, 1e-5f, y); else RmsNorm.Apply(x, w, 1e-5f, y);
            sink.Add(y);

            float[] s = rng.Floats(n, 20f);
            if (referenceOnly) ReferenceSoftmax.InPlace(s); else Softmax.InPlace(s);
            sink.Add(s);

            float a = rng.Float(2f);
            if (referenceOnly) ReferenceAxpy.Apply(a, up, y); else Axpy.Apply(a, up, y);
            sink.Add(y);
        }
    }

    private static void DoubleCases(Sink sink)
    {
        double theta = 999_983.25;
        for (int i = 0; i < 64; i++)
        {
            theta *= 0.8; // a geometric sweep of angles from 1e6 down
            sink.Add(DetMath.Sin(theta));
            sink.Add(DetMath.Cos(theta));
            sink.Add(DetMath.Exp(-i * 0.37));
            sink.Add(DetMath.Log(10000.0 + 977 * i));
        }
    }

    private sealed class Sink(IncrementalHash hash)
    {
        private readonly byte[] _buffer = new byte[8];

        public void Add(float value) => Add((long)BitConverter.SingleToUInt32Bits(value), 4);

        public void Add(double value) => Add(BitConverter.DoubleToInt64Bits(value), 8);

        public void Add(int value) => Add(value, 4);

        public void Add(ReadOnlySpan<float> values)
        {
            foreach (float v in values) Add(v);
        }

        private void Add(long bits, int bytes)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer, bits);
            hash.AppendData(_buffer, 0, bytes);
        }
    }
}
