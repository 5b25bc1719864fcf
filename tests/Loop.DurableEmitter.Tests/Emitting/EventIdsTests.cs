using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Loop.DurableEmitter.Tests.Emitting;

public sealed partial class EventIdsTests
{
    [Fact]
    public void Are_canonical_version_4_uuids()
    {
        // More than one block (256 ids), so refills are covered.
        for (var i = 0; i < 1000; i++)
        {
            var id = EventIds.Next();
            id.Should().MatchRegex(V4().ToString());
            var guid = Guid.Parse(id);
            guid.Version.Should().Be(4);
            (guid.Variant & 0xC).Should().Be(0x8, "the RFC 9562 variant is binary 10");
        }
    }

    [Fact]
    public async Task Do_not_repeat_across_threads()
    {
        var seen = new ConcurrentDictionary<string, byte>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 5000; i++)
            {
                seen.TryAdd(EventIds.Next(), 0).Should().BeTrue();
            }
        })));
        seen.Should().HaveCount(40_000);
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex V4();
}
