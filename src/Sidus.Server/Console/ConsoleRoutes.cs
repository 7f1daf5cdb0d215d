namespace Sidus.Server.WebConsole;

/// <summary>Every address of the web console, written once (pages link to each other through these).</summary>
public static class ConsoleRoutes
{
    public const string Prefix = "/console/";
    public const string Nodes = "/console/nodes";
    public const string SignIn = "/console/sign-in";
    public const string SignOut = "/console/sign-out";
    public const string Images = "/console/images";
    public const string Store = "/console/store";
    public const string Events = "/console/events";
    public const string Css = "/console/assets/console.css";
    public const string Script = "/console/assets/console.js";

    public static string Node(string name) => "/console/nodes/" + Uri.EscapeDataString(name);

    public static string Image(string name) => "/console/images/" + Uri.EscapeDataString(name);

    public static string Diff(string image, long from, long to) =>
        string.Create(CultureInfo.InvariantCulture, $"{Image(image)}/diff?from={from}&to={to}");
}
