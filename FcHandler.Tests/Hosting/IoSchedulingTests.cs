using FcHandler.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace FcHandler.Tests.Hosting;

/// <summary>Kestrel follows the runtime's inline socket completions, which test.runsettings turns on as bootstrap does on FC.</summary>
public sealed class IoSchedulingTests : ProxyTest
{
    [Fact]
    public void Kestrel_InlineSocketCompletionsOn_SchedulesItsContinuationsInlineToo()
    {
        Assert.Equal("1", Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));

        var sockets = Proxy.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.True(sockets.UnsafePreferInlineScheduling);
    }
}
