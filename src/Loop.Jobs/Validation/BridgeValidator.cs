using System.Buffers;

namespace Loop.Jobs.Validation;

/// <summary>Checks a bridge before it is stored (Chainlink's <c>ValidateBridgeType</c>): every problem at once.</summary>
internal static class BridgeValidator
{
    private static readonly SearchValues<char> NameCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-");

    public static List<JobValidationError> Validate(BridgeSpec bridge, TypeRegistry<IJobTask> tasks)
    {
        var errors = new List<JobValidationError>();
        if (string.IsNullOrEmpty(bridge.Name) || bridge.Name.Length > BridgeSpec.MaxNameLength || bridge.Name.AsSpan().ContainsAnyExcept(NameCharacters))
        {
            errors.Add(new JobValidationError("name", $"must be 1 to {BridgeSpec.MaxNameLength} lower-case letters, digits, '_' or '-'"));
        }
        else if (tasks.Find(bridge.Name) is not null)
        {
            errors.Add(new JobValidationError("name", $"'{bridge.Name}' is a task type"));
        }

        if (bridge.Url is null || !bridge.Url.IsAbsoluteUri || (bridge.Url.Scheme != Uri.UriSchemeHttp && bridge.Url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add(new JobValidationError("url", $"must be an absolute http(s) URL (was {bridge.Url?.OriginalString ?? "null"})"));
        }

        if (string.IsNullOrEmpty(bridge.IncomingToken) || bridge.IncomingToken.Length < BridgeSpec.MinTokenLength)
        {
            errors.Add(new JobValidationError("incomingToken", $"must be at least {BridgeSpec.MinTokenLength} characters"));
        }

        if (bridge.Confirmations < 0)
        {
            errors.Add(new JobValidationError("confirmations", $"must not be negative (was {bridge.Confirmations})"));
        }

        return errors;
    }
}
