namespace Loop.Jobs.Validation;

/// <summary>The task or initiator types a host knows, by name (case-insensitive); two of one name are a registration error.</summary>
internal sealed class TypeRegistry<T>
    where T : class
{
    private readonly Dictionary<string, T> _byName = new(StringComparer.OrdinalIgnoreCase);

    public TypeRegistry(IEnumerable<T> items, Func<T, string> name, string kind)
    {
        foreach (var item in items)
        {
            var key = name(item);
            if (string.IsNullOrWhiteSpace(key))
            {
                throw new InvalidOperationException($"The {kind} type {item.GetType().FullName} has no name.");
            }

            if (!_byName.TryAdd(key, item))
            {
                throw new InvalidOperationException(
                    $"Two {kind} types are named '{key}': {_byName[key].GetType().FullName} and {item.GetType().FullName}. Register one.");
            }
        }
    }

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    public T? Find(string name) => _byName.GetValueOrDefault(name);
}
