namespace Loop.Jobs.Http;

/// <summary>Reads an HTTP body up to a limit, refusing a larger one by its declared length before reading any of it.</summary>
internal static class BoundedBody
{
    /// <summary>The body's bytes, or null when it is (or says it is) larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, int limit, CancellationToken cancellationToken)
    {
        if (declaredLength > limit)
        {
            return null;
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
