using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Nethereum.JsonRpc.Client;
using Nethereum.JsonRpc.Client.RpcMessages;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Loop.Jobs.Ethereum.Rpc;

/// <summary>
/// Nethereum's JSON-RPC client contract over one WebSocket (Nethereum's own WebSocket client is not served here), so
/// that Nethereum's request types (eth_getLogs, eth_getBlockByNumber, …) run over it as over HTTP, plus the
/// <c>eth_subscription</c> notifications of the subscriptions made on it, in arrival order.
/// </summary>
internal sealed class WebSocketRpcClient : ClientBase, IAsyncDisposable
{
    /// <summary>The largest message read from the node (a block of logs is large; a larger one is refused as hostile).</summary>
    public const int MaxMessageBytes = 32 * 1024 * 1024;

    private static readonly JsonSerializerSettings Settings = DefaultJsonSerializerSettingsFactory.BuildDefaultJsonSerializerSettings();
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RpcResponseMessage>> _pending = new(StringComparer.Ordinal);
    private readonly Channel<(string Subscription, JToken Result)> _notifications = Channel.CreateUnbounded<(string, JToken)>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private Task _receiving = Task.CompletedTask;
    private long _nextId;
    private Exception? _closed;

    private WebSocketRpcClient(TimeSpan timeout, TimeProvider clock)
    {
        _timeout = timeout;
        _clock = clock;
    }

    /// <summary>Notifications of this connection's subscriptions; completes with the connection's error when it closes.</summary>
    public ChannelReader<(string Subscription, JToken Result)> Notifications => _notifications.Reader;

    public static async Task<WebSocketRpcClient> ConnectAsync(Uri uri, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        var client = new WebSocketRpcClient(timeout, clock);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await client._socket.ConnectAsync(uri, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no WebSocket connection within {timeout}");
            }

            client._receiving = Task.Run(client.ReceiveAsync, CancellationToken.None);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Subscribes (<c>eth_subscribe</c> with <paramref name="parameters"/>); returns the subscription id its notifications carry.</summary>
    public Task<string> SubscribeAsync(params object[] parameters) =>
        SendRequestAsync<string>(new RpcRequest(0, "eth_subscribe", parameters));

    public override async Task<RpcResponseMessage> SendAsync(RpcRequestMessage request, string? route = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        request.Id = id;
        var answer = new TaskCompletionSource<RpcResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            if (Volatile.Read(ref _closed) is { } closed)
            {
                throw new WebSocketException($"the connection is closed: {closed.Message}", closed);
            }

            var bytes = Encoding.UTF8.GetBytes(JsonConvert.SerializeObject(request, Settings));
            using var deadline = new CancellationTokenSource(_timeout, _clock);
            try
            {
                await _sendGate.WaitAsync(deadline.Token).ConfigureAwait(false);
                try
                {
                    await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, deadline.Token).ConfigureAwait(false);
                }
                finally
                {
                    _sendGate.Release();
                }

                return await answer.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                // A node that accepts and never answers: the caller drops this connection and connects again.
                throw new RpcClientTimeoutException($"{request.Method} had no answer within {_timeout}");
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    protected override Task<RpcResponseMessage[]> SendAsync(RpcRequestMessage[] requests) =>
        throw new NotSupportedException("batch requests are not used over this connection");

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1), _clock);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing a connection already gone.
        }

        _socket.Abort();
        await _receiving.ConfigureAwait(false);
        _socket.Dispose();
        _closing.Dispose();
        _sendGate.Dispose();
    }

    private async Task ReceiveAsync()
    {
        Exception error = new WebSocketException("the node closed the connection");
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult part;
                do
                {
                    part = await _socket.ReceiveAsync(buffer.AsMemory(), _closing.Token).ConfigureAwait(false);
                    if (part.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    message.Write(buffer, 0, part.Count);
                    if (message.Length > MaxMessageBytes)
                    {
                        throw new WebSocketException($"the node sent a message over {MaxMessageBytes} bytes");
                    }
                }
                while (!part.EndOfMessage);

                Dispatch(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
            }
        }
        catch (OperationCanceledException)
        {
            error = new WebSocketException("the connection was closed by this host");
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            Volatile.Write(ref _closed, error);
            _notifications.Writer.TryComplete(error);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new WebSocketException($"the connection closed before the answer: {error.Message}", error));
            }
        }
    }

    private void Dispatch(string text)
    {
        JObject message;
        try
        {
            message = JToken.Parse(text) as JObject ?? throw new JsonReaderException("not an object");
        }
        catch (JsonReaderException ex)
        {
            // Garbage from the node ends this connection, naming what it sent; the watcher reports it and connects again.
            throw new WebSocketException($"the node sent a message that is not a JSON-RPC object: {ex.Message}");
        }

        if (message.Value<string>("method") == "eth_subscription")
        {
            if (message["params"] is JObject parameters && parameters.Value<string>("subscription") is { } subscription && parameters["result"] is { } result)
            {
                _notifications.Writer.TryWrite((subscription, result));
            }

            return;
        }

        if (message["id"] is { } id && _pending.TryGetValue(id.ToString(), out var answer))
        {
            answer.TrySetResult(message.ToObject<RpcResponseMessage>(JsonSerializer.Create(Settings))!);
        }
    }
}
