namespace FcHandler.Tests.Infrastructure;

/// <summary>Files of the repository the tests use, found by walking up from the test binaries.</summary>
public static class Fixtures
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string EventPath(string name) => Path.Combine(RepositoryRoot, "events", name);

    public static string Event(string name) => File.ReadAllText(EventPath(name));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FcHandler.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with FcHandler.sln) is not above " + AppContext.BaseDirectory);
    }
}
