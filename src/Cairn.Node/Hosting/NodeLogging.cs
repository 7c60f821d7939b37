namespace Cairn.Node.Hosting;

/// <summary>The console logging of gateway and provider processes: one line per event, framework chatter at warning.</summary>
public static class NodeLogging
{
    public static void Configure(ILoggingBuilder logging, Action<ILoggingBuilder>? custom)
    {
        logging.ClearProviders();
        if (custom != null)
        {
            custom(logging);
            return;
        }
        logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
    }
}
