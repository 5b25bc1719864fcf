namespace Loop.DurableEmitter.Stores.Postgres;

/// <summary>
/// Row identifiers drawn from the table's sequence ahead of use, so that a binary COPY batch needs no round trip of its
/// own to learn its ids. Ids drawn by several writers at once interleave, so they are kept as a sorted list, not a range.
/// Ids left unused when the process ends are gaps in the sequence, which is harmless.
/// </summary>
internal sealed class PgIdReservations
{
    private readonly Lock _gate = new();
    private long[] _ids = [];
    private int _next;

    /// <summary>Fills <paramref name="ids"/> from the reservation; false (nothing taken) when too few are left.</summary>
    public bool TryTake(Span<long> ids)
    {
        lock (_gate)
        {
            if (_ids.Length - _next < ids.Length)
            {
                return false;
            }

            _ids.AsSpan(_next, ids.Length).CopyTo(ids);
            _next += ids.Length;
            return true;
        }
    }

    /// <summary>Adds newly drawn ids, takes the lowest <paramref name="ids"/>.Length of all and keeps the rest.</summary>
    public void Refill(long[] drawn, Span<long> ids)
    {
        lock (_gate)
        {
            var left = _ids.AsSpan(_next);
            var all = new long[left.Length + drawn.Length];
            left.CopyTo(all);
            drawn.CopyTo(all, left.Length);

            // Two writers that drew at once interleave; sorted, every batch still gets ascending ids (input order).
            Array.Sort(all);
            all.AsSpan(0, ids.Length).CopyTo(ids);
            _ids = all;
            _next = ids.Length;
        }
    }
}
