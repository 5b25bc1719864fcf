using Google.Protobuf;
using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// The retransmit loop's pass: claims pending rows older than <see cref="DurableEmitterOptions.RetransmitAfter"/> page
/// by page (each claimed row leased to this process) and hands them to delivery, until a short page or a refusal.
/// Corrupt rows are counted and skipped.
/// </summary>
internal sealed class Retransmitter(
    IDurableEventStore store,
    EventDelivery delivery,
    StoreCalls calls,
    DurableEmitterOptions options,
    DurableEmitterMetrics metrics,
    TimeProvider timeProvider,
    ILogger logger)
{
    private readonly SemaphoreSlim _passing = new(1, 1);
    private PendingCursor? _cursor;

    public async ValueTask RunAsync(CancellationToken cancellationToken)
    {
        // One pass at a time: the loop and a test's RetransmitNowAsync share the cursor.
        await _passing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PassAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _passing.Release();
        }
    }

    private async ValueTask PassAsync(CancellationToken cancellationToken)
    {
        // Page on while pages are full and the transport takes everything; a refusal ends the pass (back-pressure).
        while (true)
        {
            // The lease as this process may count on it: from before the claim (the store's starts a little later).
            var claimedAt = timeProvider.GetUtcNow();
            var cutoff = claimedAt - options.RetransmitAfter;
            var (claimed, rows) = await calls.TryAsync(
                "claim_pending",
                () => store.ClaimPendingAsync(cutoff, _cursor, options.RetransmitBatchSize, options.RetransmitAfter, cancellationToken)).ConfigureAwait(false);
            if (!claimed)
            {
                return;
            }

            // A full page moves the cursor past it, a short one starts over: rows that keep failing cannot starve the rest.
            var full = rows.Count == options.RetransmitBatchSize;
            _cursor = full ? new PendingCursor(rows[^1].CreatedAt, rows[^1].Id) : null;
            var queued = 0;
            var refused = false;
            foreach (var row in rows)
            {
                if (delivery.IsInFlight(row.Id) || !TryParse(row, out var cloudEvent))
                {
                    continue;
                }

                if (delivery.Deliver(cloudEvent, new DurableLease(row.Id, row.LeaseUntil ?? claimedAt + options.RetransmitAfter), DeliveryPhase.Retransmit))
                {
                    queued++;
                }
                else
                {
                    refused = true;
                }
            }

            if (queued > 0)
            {
                EmitterLog.Retransmitted(logger, queued);
            }

            if (!full || refused || cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private bool TryParse(DurableEvent row, out CloudEvent cloudEvent)
    {
        string reason;
        try
        {
            cloudEvent = CloudEvent.Parser.ParseFrom(row.Payload.Span);
            if (cloudEvent.Id.Length > 0 && cloudEvent.Source.Length > 0 && cloudEvent.Type.Length > 0 && cloudEvent.SpecVersion.Length > 0)
            {
                return true;
            }

            reason = "the payload has no id, source, type or spec version";
        }
        catch (InvalidProtocolBufferException ex)
        {
            reason = ex.Message;
        }

        metrics.Corrupt();
        EmitterLog.CorruptEvent(logger, row.Id, reason);
        cloudEvent = null!;
        return false;
    }
}
