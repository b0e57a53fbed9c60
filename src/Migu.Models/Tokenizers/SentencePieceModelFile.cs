using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>
/// Minimal editing of a SentencePiece ModelProto (protobuf) so that Microsoft.ML.Tokenizers can load
/// it. T5's spiece.model has no BOS piece (trainer_spec.bos_id = −1) and the library refuses such
/// files; we point bos_id at an existing control piece (T5's &lt;pad&gt;) and never ask the library to
/// add a BOS. Only the TrainerSpec's field is rewritten; every other byte is kept as it was.
/// </summary>
internal static class SentencePieceModelFile
{
    private const int PiecesField = 1;      // ModelProto.pieces
    private const int TrainerSpecField = 2; // ModelProto.trainer_spec
    private const int ModelTypeField = 3;   // TrainerSpec.model_type
    private const int BosIdField = 41;      // TrainerSpec.bos_id
    private const int PadIdField = 43;      // TrainerSpec.pad_id

    /// <summary>The model bytes with a missing bos_id replaced by pad_id (or 0); the bytes unchanged when bos_id is set.</summary>
    public static byte[] WithBosId(byte[] model, string path)
    {
        var output = new List<byte>(model.Length + 16);
        int i = 0;
        while (i < model.Length)
        {
            int fieldStart = i;
            ulong tag = ReadVarint(model, ref i, path);
            int field = (int)(tag >> 3);
            int wire = (int)(tag & 7);
            if (field == TrainerSpecField && wire == 2)
            {
                int length = ReadLength(model, ref i, model.Length, path);
                byte[] spec = PatchTrainerSpec(model.AsSpan(i, length), path);
                WriteVarint(output, tag);
                WriteVarint(output, (ulong)spec.Length);
                output.AddRange(spec);
                i += length;
            }
            else
            {
                SkipValue(model, ref i, wire, path);
                output.AddRange(model.AsSpan(fieldStart, i - fieldStart));
            }
        }

        return [.. output];
    }

    /// <summary>trainer_spec.model_type: 1 unigram (the proto default), 2 BPE, 3 word, 4 char.</summary>
    public static int ModelType(byte[] model, string path)
    {
        int i = 0;
        while (i < model.Length)
        {
            ulong tag = ReadVarint(model, ref i, path);
            int wire = (int)(tag & 7);
            if ((tag >> 3) == TrainerSpecField && wire == 2)
            {
                int length = ReadLength(model, ref i, model.Length, path);
                int end = i + length;
                int type = 1;
                while (i < end)
                {
                    ulong inner = ReadVarint(model, ref i, path);
                    if ((inner >> 3) == ModelTypeField && (inner & 7) == 0)
                    {
                        type = (int)ReadVarint(model, ref i, path);
                    }
                    else
                    {
                        SkipValue(model, ref i, (int)(inner & 7), path);
                    }
                }

                return type;
            }

            SkipValue(model, ref i, wire, path);
        }

        return 1;
    }

    /// <summary>The number of pieces (ModelProto.pieces entries): the ids 0 … n−1 the model owns.</summary>
    public static int PieceCount(byte[] model, string path)
    {
        int count = 0;
        int i = 0;
        while (i < model.Length)
        {
            ulong tag = ReadVarint(model, ref i, path);
            if ((tag >> 3) == PiecesField)
            {
                count++;
            }

            SkipValue(model, ref i, (int)(tag & 7), path);
        }

        return count;
    }

    /// <summary>The pieces in id order: text, score and type (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).</summary>
    public static List<(string Piece, float Score, int Type)> ReadPieces(byte[] model, string path)
    {
        var pieces = new List<(string, float, int)>();
        int i = 0;
        while (i < model.Length)
        {
            ulong tag = ReadVarint(model, ref i, path);
            int wire = (int)(tag & 7);
            if ((tag >> 3) != PiecesField || wire != 2)
            {
                SkipValue(model, ref i, wire, path);
                continue;
            }

            int length = ReadLength(model, ref i, model.Length, path);
            int end = i + length;
            string piece = "";
            float score = 0;
            int type = 1; // NORMAL is the proto default
            while (i < end)
            {
                ulong inner = ReadVarint(model, ref i, path);
                int field = (int)(inner >> 3);
                int innerWire = (int)(inner & 7);
                if (field == 1 && innerWire == 2)
                {
                    int n = ReadLength(model, ref i, end, path);
                    piece = System.Text.Encoding.UTF8.GetString(model, i, n);
                    i += n;
                }
                else if (field == 2 && innerWire == 5)
                {
                    Check(i + 4 <= end, path);
                    score = BitConverter.ToSingle(model, i); // protobuf fixed32 is little-endian, as .NET on x64/arm64
                    i += 4;
                }
                else if (field == 3 && innerWire == 0)
                {
                    type = (int)ReadVarint(model, ref i, path);
                }
                else
                {
                    SkipValue(model, ref i, innerWire, path);
                }
            }

            pieces.Add((piece, score, type));
        }

        return pieces;
    }

    private static byte[] PatchTrainerSpec(ReadOnlySpan<byte> spec, string path)
    {
        byte[] bytes = spec.ToArray();
        long bos = 1; // proto default for bos_id
        long pad = -1;
        int i = 0;
        while (i < bytes.Length)
        {
            ulong tag = ReadVarint(bytes, ref i, path);
            int field = (int)(tag >> 3);
            int wire = (int)(tag & 7);
            if (wire == 0 && field is BosIdField or PadIdField)
            {
                long value = (int)ReadVarint(bytes, ref i, path); // int32, negative ones as 10-byte varints
                if (field == BosIdField)
                {
                    bos = value;
                }
                else
                {
                    pad = value;
                }
            }
            else
            {
                SkipValue(bytes, ref i, wire, path);
            }
        }

        if (bos >= 0)
        {
            return bytes;
        }

        // A later occurrence of a scalar field wins in protobuf, so appending is enough.
        var patched = new List<byte>(bytes);
        WriteVarint(patched, (BosIdField << 3) | 0);
        WriteVarint(patched, (ulong)Math.Max(pad, 0));
        return [.. patched];
    }

    private static ulong ReadVarint(byte[] bytes, ref int i, string path)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            Check(i < bytes.Length, path);
            byte b = bytes[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new MiguUserException($"{path}: not a SentencePiece model (bad protobuf varint).");
    }

    /// <summary>A length-delimited field's length, which must fit in what is left before <paramref name="end"/>.</summary>
    private static int ReadLength(byte[] bytes, ref int i, int end, string path)
    {
        ulong length = ReadVarint(bytes, ref i, path);
        Check(i <= end && length <= (ulong)(end - i), path);
        return (int)length;
    }

    private static void SkipValue(byte[] bytes, ref int i, int wire, string path)
    {
        switch (wire)
        {
            case 0:
                ReadVarint(bytes, ref i, path);
                break;
            case 1:
                i += 8;
                break;
            case 2:
                int length = ReadLength(bytes, ref i, bytes.Length, path); // read before adding: i moves
                i += length;
                break;
            case 5:
                i += 4;
                break;
            default:
                throw new MiguUserException($"{path}: not a SentencePiece model (protobuf wire type {wire}).");
        }

        Check(i <= bytes.Length, path);
    }

    private static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }

    private static void Check(bool ok, string path)
    {
        if (!ok)
        {
            throw new MiguUserException($"{path}: not a SentencePiece model (truncated protobuf).");
        }
    }
}
