using System.Diagnostics;
using System.IO.Compression;
using Sidus.Store.Compression;

namespace Sidus.Store.Import;

/// <summary>How an archive's bytes are compressed, told by their first bytes (not by the file name).</summary>
public enum ArchiveCompression
{
    None,
    Gzip,
    Zstd,
    Xz,
    Bzip2,
}

/// <summary>
/// Opens a possibly compressed archive as a plain stream: gzip in process, zstd through libzstd, xz and bzip2 through
/// the `xz` and `bzip2` programs (their exit status is checked, so a corrupt stream is an error, never short data).
/// </summary>
public static class Decompression
{
    private const int MagicLength = 6;

    private static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];
    private static ReadOnlySpan<byte> XzMagic => [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];
    private static ReadOnlySpan<byte> Bzip2Magic => "BZh"u8;

    public static ArchiveCompression Detect(ReadOnlySpan<byte> start) =>
        start.StartsWith(GzipMagic) ? ArchiveCompression.Gzip
        : start.StartsWith(ZstdMagic) ? ArchiveCompression.Zstd
        : start.StartsWith(XzMagic) ? ArchiveCompression.Xz
        : start.StartsWith(Bzip2Magic) ? ArchiveCompression.Bzip2
        : ArchiveCompression.None;

    /// <summary>
    /// The decompressed content of RAW (which may be a pipe: its first bytes are peeked, not sought back to).
    /// Disposing the result disposes RAW.
    /// </summary>
    public static Stream Open(Stream raw, string label, out ArchiveCompression compression)
    {
        var magic = new byte[MagicLength];
        var n = 0;
        while (n < magic.Length)
        {
            var read = raw.Read(magic, n, magic.Length - n);
            if (read == 0)
            {
                break;
            }

            n += read;
        }

        Stream stream = new PrefixStream(magic.AsMemory(0, n), raw);
        compression = Detect(magic.AsSpan(0, n));
        return compression switch
        {
            ArchiveCompression.Gzip => new GzipErrors(new GZipStream(stream, CompressionMode.Decompress), label),
            ArchiveCompression.Zstd => new ZstdDecompressStream(stream, label),
            ArchiveCompression.Xz => new ProcessDecompressStream("xz", stream, label),
            ArchiveCompression.Bzip2 => new ProcessDecompressStream("bzip2", stream, label),
            _ => stream,
        };
    }

    /// <summary>Bytes already read from the front of a stream, then the rest of it.</summary>
    private sealed class PrefixStream(ReadOnlyMemory<byte> prefix, Stream rest) : ReadOnlyStream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(Span<byte> buffer)
        {
            if (_prefix.IsEmpty)
            {
                return rest.Read(buffer);
            }

            var n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }

    }

    /// <summary>Turns GZipStream's InvalidDataException into an error that names the archive.</summary>
    private sealed class GzipErrors(Stream inner, string label) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw new StoreException($"{label}: the gzip data is corrupt ({e.Message})", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

    }

    /// <summary>
    /// `PROGRAM -dc` with INPUT copied to its stdin and its stdout read back. At the end of its output the exit
    /// status is checked; disposing before the end kills the process.
    /// </summary>
    private sealed class ProcessDecompressStream : ReadOnlyStream
    {
        private readonly Process _process;
        private readonly Stream _input;
        private readonly Task _pump;
        private readonly Task<string> _errors;
        private readonly string _label;
        private readonly string _program;
        private bool _finished;

        public ProcessDecompressStream(string program, Stream input, string label)
        {
            _program = program;
            _label = label;
            _input = input;
            var info = new ProcessStartInfo(program)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add("-dc");
            try
            {
                _process = Process.Start(info) ?? throw new StoreException($"cannot start {program}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new StoreException($"{label} is {program}-compressed but the '{program}' program is missing: install it (apt-get install {(program == "xz" ? "xz-utils" : program)})", e);
            }

            _errors = _process.StandardError.ReadToEndAsync();
            _pump = Task.Run(async () =>
            {
                await using var stdin = _process.StandardInput.BaseStream;
                await input.CopyToAsync(stdin).ConfigureAwait(false);
            });
        }

        public override int Read(Span<byte> buffer)
        {
            if (_finished)
            {
                return 0;
            }

            var n = _process.StandardOutput.BaseStream.Read(buffer);
            if (n == 0 && !buffer.IsEmpty)
            {
                Finish();
            }

            return n;
        }

        private void Finish()
        {
            _finished = true;
            _process.WaitForExit();
            var errors = _errors.GetAwaiter().GetResult().Trim();
            if (_process.ExitCode != 0)
            {
                throw new StoreException($"{_label}: the {_program} data is corrupt or truncated ({_program} says: {errors})");
            }

            try
            {
                _pump.GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                throw new StoreException($"{_label}: {_program} stopped before reading all the data ({e.Message})", e);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit();
                }

                // The pump fails once the process is gone; the reason was already reported or does not matter now.
                _ = _pump.ContinueWith(t => t.Exception, TaskScheduler.Default);
                _process.Dispose();
                _input.Dispose();
            }

            base.Dispose(disposing);
        }

    }
}
