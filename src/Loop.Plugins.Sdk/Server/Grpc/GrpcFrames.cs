using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>gRPC's length-prefixed messages on an HTTP/2 stream: a compressed flag, a 4-byte big-endian length, the message.</summary>
internal static class GrpcFrames
{
    /// <summary>The largest request message taken: grpc-dotnet's and grpc-go's default receive limit.</summary>
    public const int MaxReceiveMessageSize = 4 * 1024 * 1024;

    private const int HeaderSize = 5;

    /// <summary>Reads the next message; false at the end of the request stream.</summary>
    /// <exception cref="RpcException">A truncated, compressed or oversized message.</exception>
    public static async ValueTask<(bool Read, T Message)> ReadAsync<T>(PipeReader reader, Marshaller<T> marshaller, CancellationToken cancellationToken)
    {
        // Every read looks at all that is buffered: a read after "examined to the end" waits for new data, so a frame
        // already whole in the buffer must be taken in the read that holds it.
        var header = new byte[HeaderSize];
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= HeaderSize)
            {
                buffer.Slice(0, HeaderSize).CopyTo(header);
                var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                if (header[0] != 0)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.Unimplemented, "Compressed messages are not supported (no grpc-accept-encoding was offered)."));
                }

                if (length > MaxReceiveMessageSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {MaxReceiveMessageSize})."));
                }

                var total = HeaderSize + (long)length;
                if (buffer.Length >= total)
                {
                    try
                    {
                        // Parsed from the pipe's own buffers (protobuf's generated marshallers read the sequence as it is).
                        return (true, marshaller.ContextualDeserializer(new FrameDeserializationContext(buffer.Slice(HeaderSize, length))));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize request message.", ex));
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.GetPosition(total));
                    }
                }
            }

            if (result.IsCompleted)
            {
                var empty = buffer.Length == 0;
                reader.AdvanceTo(buffer.End);
                return empty ? (false, default!) : throw new RpcException(new Status(StatusCode.Internal, "Incomplete message."));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes one message and flushes it.</summary>
    public static async ValueTask WriteAsync<T>(PipeWriter writer, Marshaller<T> marshaller, T message, CancellationToken cancellationToken)
    {
        var context = new FrameSerializationContext(writer);
        marshaller.ContextualSerializer(message, context);
        context.EnsureCompleted();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteHeader(PipeWriter writer, int length)
    {
        var span = writer.GetSpan(HeaderSize);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
        writer.Advance(HeaderSize);
    }

    /// <summary>A received message as the marshaller reads it: the pipe's buffers, not a copy.</summary>
    private sealed class FrameDeserializationContext(ReadOnlySequence<byte> payload) : DeserializationContext
    {
        public override int PayloadLength => (int)payload.Length;

        public override byte[] PayloadAsNewBuffer() => payload.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => payload;
    }

    /// <summary>
    /// A message being written: straight into the response pipe after its header once the marshaller states its length
    /// (protobuf's generated marshallers do), else buffered until it completes.
    /// </summary>
    private sealed class FrameSerializationContext(PipeWriter writer) : SerializationContext
    {
        private int? _length;
        private ArrayBufferWriter<byte>? _buffered;
        private bool _direct;
        private bool _completed;

        public override void SetPayloadLength(int payloadLength) => _length = payloadLength;

        public override IBufferWriter<byte> GetBufferWriter()
        {
            if (_length is { } length && _buffered is null)
            {
                if (!_direct)
                {
                    WriteHeader(writer, length);
                    _direct = true;
                }

                return writer;
            }

            return _buffered ??= new ArrayBufferWriter<byte>();
        }

        public override void Complete(byte[] payload)
        {
            WriteHeader(writer, payload.Length);
            writer.Write(payload);
            _completed = true;
        }

        public override void Complete()
        {
            if (_buffered is not null)
            {
                WriteHeader(writer, _buffered.WrittenCount);
                writer.Write(_buffered.WrittenSpan);
            }

            _completed = true;
        }

        public void EnsureCompleted()
        {
            if (!_completed)
            {
                throw new InvalidOperationException("The response marshaller did not complete its message.");
            }
        }
    }
}
