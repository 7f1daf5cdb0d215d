using System.Buffers;
using System.Text.Json;

namespace Sidus.Wire.Contracts;

/// <summary>
/// The JSON of <see cref="NodeEvent"/> and <see cref="UpReport"/>, written and read here for both ends: camelCase
/// names, null members left out, unknown members ignored, anything malformed a <see cref="JsonException"/>. Written
/// by hand over <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/> rather than by JsonSerializer: the
/// serializer's machinery adds about 260 KiB to the NativeAOT node agent, which only writes an event. The writer's
/// default escaping is the serializer's, so the bytes are the same.
/// </summary>
internal static class ContractsJson
{
    public static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteEvent(Utf8JsonWriter json, NodeEvent e)
    {
        json.WriteStartObject();
        String(json, "stage", e.Stage);
        String(json, "detail", e.Detail);
        String(json, "image", e.Image);
        if (e.Up is { } up)
        {
            json.WritePropertyName("up");
            WriteUp(json, up);
        }

        json.WriteEndObject();
    }

    public static void WriteUp(Utf8JsonWriter json, UpReport up)
    {
        json.WriteStartObject();
        String(json, "host", up.Host);
        String(json, "image", up.Image);
        String(json, "imageRef", up.ImageRef);
        String(json, "machineId", up.MachineId);
        String(json, "sshEd25519", up.SshEd25519);
        Number(json, "memTotalKib", up.MemTotalKib);
        Number(json, "memAvailableKib", up.MemAvailableKib);
        Number(json, "shmemKib", up.ShmemKib);
        String(json, "root", up.Root);
        String(json, "lower", up.Lower);
        String(json, "upper", up.Upper);
        Number(json, "boot", up.Boot);
        json.WriteEndObject();
    }

    /// <summary>Reads one JSON object, all of JSON, with READOBJECT (the reader is on its start); null is refused.</summary>
    public static T Read<T>(ReadOnlySpan<byte> utf8, string what, ReadObject<T> readObject)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            reader.Read();
            var value = reader.TokenType == JsonTokenType.Null ? throw new JsonException($"the {what} is null") : readObject(ref reader);
            if (reader.Read())
            {
                throw new JsonException($"more after the {what}");
            }

            return value;
        }
        catch (JsonException e) when (e.GetType() != typeof(JsonException))
        {
            // The reader throws its own subtype; callers catch JsonException itself, as JsonSerializer rethrows it.
            throw new JsonException(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // A string that is not valid UTF-8.
            throw new JsonException(e.Message, e);
        }
    }

    public delegate T ReadObject<out T>(ref Utf8JsonReader reader);

    public static NodeEvent ReadEvent(ref Utf8JsonReader reader)
    {
        string? stage = null, detail = null, image = null;
        UpReport? up = null;
        StartObject(ref reader, "event");
        while (NextMember(ref reader) is { } name)
        {
            switch (name)
            {
                case "stage": stage = String(ref reader); break;
                case "detail": detail = String(ref reader); break;
                case "image": image = String(ref reader); break;
                case "up": up = reader.Read() && reader.TokenType == JsonTokenType.Null ? null : ReadUp(ref reader); break;
                default: reader.Skip(); break;
            }
        }

        return new NodeEvent(stage, detail) { Image = image, Up = up };
    }

    public static UpReport ReadUp(ref Utf8JsonReader reader)
    {
        var up = new UpReport();
        StartObject(ref reader, "up report");
        while (NextMember(ref reader) is { } name)
        {
            up = name switch
            {
                "host" => up with { Host = String(ref reader) },
                "image" => up with { Image = String(ref reader) },
                "imageRef" => up with { ImageRef = String(ref reader) },
                "machineId" => up with { MachineId = String(ref reader) },
                "sshEd25519" => up with { SshEd25519 = String(ref reader) },
                "memTotalKib" => up with { MemTotalKib = Number(ref reader) },
                "memAvailableKib" => up with { MemAvailableKib = Number(ref reader) },
                "shmemKib" => up with { ShmemKib = Number(ref reader) },
                "root" => up with { Root = String(ref reader) },
                "lower" => up with { Lower = String(ref reader) },
                "upper" => up with { Upper = String(ref reader) },
                "boot" => up with { Boot = SmallNumber(ref reader) },
                _ => Skip(ref reader, up),
            };
        }

        return up;
    }

    private static void String(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void Number(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } n)
        {
            json.WriteNumber(name, n);
        }
    }

    private static void StartObject(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"the {what} is not a JSON object");
        }
    }

    /// <summary>Moves to the next member's name and returns it; null at the object's end.</summary>
    private static string? NextMember(ref Utf8JsonReader reader) =>
        reader.Read() && reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;

    /// <summary>Skips an unknown member's value; returns VALUE unchanged.</summary>
    private static T Skip<T>(ref Utf8JsonReader reader, T value)
    {
        reader.Skip();
        return value;
    }

    private static string? String(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            _ => throw new JsonException($"{reader.TokenType} where a string was expected"),
        };
    }

    private static long? Number(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.Number when reader.TryGetInt64(out var n) => n,
            _ => throw new JsonException($"{reader.TokenType} where a whole number was expected"),
        };
    }

    private static int? SmallNumber(ref Utf8JsonReader reader) => Number(ref reader) switch
    {
        null => null,
        >= int.MinValue and <= int.MaxValue and var n => (int)n,
        var n => throw new JsonException($"{n} is too large here"),
    };
}
