using FcHandler.Limits;

namespace FcHandler.Tests.Limits;

/// <summary>What the operator is told when the first connection to the store fails, read from the library's log of it.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public void FailureIn_AStoreThatRefusedTheHandshake_IsWhatItAnswered()
    {
        const string Log = """
            07:24:32.7718: 127.0.0.1:34361: Authenticating (password)
            07:24:33.4528: Response from 127.0.0.1:34361/Interactive / GET __Booksleeve_TieBreak: SimpleError: NOAUTH Authentication required.
            07:24:33.4531: Response from 127.0.0.1:34361/Interactive / ECHO: SimpleError: NOAUTH Authentication required.
            """;

        Assert.Equal("the store answered NOAUTH Authentication required.", RedisConnection.FailureIn(Log));
    }

    [Fact]
    public void FailureIn_ANetworkThatRefusedTheConnection_IsTheTypeAndTheCause()
    {
        const string Log = """
            07:25:59.6423: 127.0.0.1:40677: BeginConnectAsync
            07:25:59.6688: Connection failed: 127.0.0.1:40677 (Interactive, UnableToConnect): UnableToConnect (0-read, 0-sent) on 127.0.0.1:40677/Interactive, Initializing/NotStarted
            07:25:59.6695: > Connection refused
            """;

        Assert.Equal("UnableToConnect: Connection refused", RedisConnection.FailureIn(Log));
    }

    [Fact]
    public void FailureIn_NothingClear_IsNull() => Assert.Null(RedisConnection.FailureIn("07:26:04.7059: Total connect time: 5,102 ms"));
}
