namespace FcHandler.Hosting;

/// <summary>
/// A setting has a value the proxy cannot run with. The message names the setting, the value's problem
/// and an example of a good value; it is printed as the start-up failure and never contains secrets.
/// </summary>
internal sealed class ConfigurationException(string message) : Exception(message);
