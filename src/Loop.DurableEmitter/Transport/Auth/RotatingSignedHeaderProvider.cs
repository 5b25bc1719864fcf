using System.Buffers.Binary;
using System.Globalization;

namespace Loop.DurableEmitter;

/// <summary>
/// Rotating signed auth: header <c>x-beholder-node-auth-token: 2:&lt;public key hex&gt;:&lt;unix ns&gt;:&lt;signature hex&gt;</c>,
/// where the signature covers the public key bytes followed by the big-endian Unix-nanosecond timestamp. A header is
/// reused until its TTL passes, then signed again. The signer may be set after start (<see cref="SetSigner"/>): until
/// then every call fails with <see cref="IngressAuthException"/>, and the events wait in the store.
/// </summary>
public sealed class RotatingSignedHeaderProvider : IIngressHeaderProvider, IDisposable
{
    /// <summary>The header name (gRPC metadata is lowercase).</summary>
    public const string HeaderName = "x-beholder-node-auth-token";

    private static readonly TimeSpan SignTimeout = TimeSpan.FromSeconds(5);
    private readonly byte[] _publicKey;
    private readonly string _publicKeyHex;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile IIngressSigner? _signer;
    private volatile Signed? _current;

    /// <summary>Creates the provider.</summary>
    /// <param name="publicKeyHex">The node's public key in hex.</param>
    /// <param name="ttl">How long a signed header is reused (at least 10 minutes).</param>
    /// <param name="signer">The signer, or null to set one later.</param>
    /// <param name="timeProvider">The clock for timestamps and the TTL.</param>
    public RotatingSignedHeaderProvider(string publicKeyHex, TimeSpan ttl, IIngressSigner? signer = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publicKeyHex);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.FromMinutes(10));
        _publicKey = Convert.FromHexString(publicKeyHex);
        _publicKeyHex = Convert.ToHexStringLower(_publicKey);
        _ttl = ttl;
        _signer = signer;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Whether a signer is set.</summary>
    public bool HasSigner => _signer is not null;

    /// <summary>Sets or replaces the signer, for keystores that become available after start.</summary>
    public void SetSigner(IIngressSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        _signer = signer;
        _current = null;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<KeyValuePair<string, string>>> GetHeadersAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        if (_current is { } fresh && now - fresh.At < _ttl)
        {
            return fresh.Headers;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current is { } again && now - again.At < _ttl)
            {
                return again.Headers;
            }

            var signer = _signer ?? throw new IngressAuthException("keystore not yet available: no signer is set for rotating ingress auth");
            var nanos = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
            var payload = new byte[_publicKey.Length + 8];
            _publicKey.CopyTo(payload, 0);
            BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(_publicKey.Length), nanos);
            using var timeout = new CancellationTokenSource(SignTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            byte[] signature;
            try
            {
                signature = await signer.SignAsync(payload, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw new IngressAuthException($"signing the rotating ingress auth header failed: {ex.Message}", ex);
            }

            var token = string.Create(CultureInfo.InvariantCulture, $"2:{_publicKeyHex}:{nanos}:{Convert.ToHexStringLower(signature)}");
            var signed = new Signed(now, [KeyValuePair.Create(HeaderName, token)]);
            _current = signed;
            return signed.Headers;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _refresh.Dispose();

    private sealed record Signed(DateTimeOffset At, KeyValuePair<string, string>[] Headers);
}

/// <summary>Ingress auth headers could not be produced; the call was not made.</summary>
public sealed class IngressAuthException : DurableEmitterException
{
    /// <summary>Creates the exception.</summary>
    public IngressAuthException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
