using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Remote;
using Sidus.Testing;
using Xunit.Abstractions;

namespace Sidus.Server.Tests;

/// <summary>
/// A real headless Chromium (Debian's chromium, driven by Debian's chromedriver through Selenium WebDriver; nothing is
/// downloaded) in a network namespace of its own: it reaches only the test's network, never the internet. The test
/// talks to chromedriver through <see cref="NamespacePortForward"/>. Screenshots go under the test results directory
/// (.sidus-build/test-results/console, where ./test keeps its results) and their paths are logged.
/// </summary>
internal sealed class ConsoleBrowser : IDisposable
{
    /// <summary>chromedriver's port inside the browser's namespace (private to it, so a fixed one is free).</summary>
    private const int DriverPort = 9515;

    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly BackgroundProcess _driverProcess;
    private readonly NamespacePortForward _forward;
    private readonly string _profile;
    private readonly ITestOutputHelper _output;

    private ConsoleBrowser(BackgroundProcess driverProcess, NamespacePortForward forward, string profile, IWebDriver driver, ITestOutputHelper output)
    {
        _driverProcess = driverProcess;
        _forward = forward;
        _profile = profile;
        Driver = driver;
        _output = output;
    }

    public IWebDriver Driver { get; }

    public static async Task<ConsoleBrowser> StartAsync(NetworkNamespace ns, ITestOutputHelper output)
    {
        var chromedriver = Tool.Require("chromedriver", "chromium-driver");
        var chromium = Tool.Require("chromium", "chromium");
        var driverProcess = ns.Start(chromedriver, [$"--port={DriverPort}"]);
        if (!await driverProcess.WaitForOutputAsync("started successfully", StartLimit))
        {
            var failure = driverProcess.Output;
            driverProcess.Dispose();
            throw new InvalidOperationException("chromedriver did not start:\n" + failure);
        }

        var forward = new NamespacePortForward(ns, DriverPort);
        var profile = Directory.CreateTempSubdirectory("sidus-chromium-").FullName;
        try
        {
            var options = new ChromeOptions { BinaryLocation = chromium };
            options.AddArguments(
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
                "--user-data-dir=" + profile, "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-default-browser-check");
            var driver = new RemoteWebDriver(forward.Url, options.ToCapabilities(), StartLimit);
            return new ConsoleBrowser(driverProcess, forward, profile, driver, output);
        }
        catch
        {
            forward.Dispose();
            driverProcess.Dispose();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    public void Go(string url) => Driver.Navigate().GoToUrl(url);

    /// <summary>Signs in on the page the browser shows (the sign-in form).</summary>
    public void SignIn(string token)
    {
        var field = Driver.FindElement(By.Id("token"));
        field.Clear();
        field.SendKeys(token);
        Driver.FindElement(By.CssSelector("form.sign-in button[type=submit]")).Click();
    }

    public object? Script(string script) => ((IJavaScriptExecutor)Driver).ExecuteScript(script);

    /// <summary>Waits (bounded) until CONDITION holds on the page; fails with WHAT and the page's text otherwise.</summary>
    public async Task WaitAsync(Func<IWebDriver, bool> condition, string what, TimeSpan? limit = null)
    {
        var until = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            try
            {
                if (condition(Driver))
                {
                    return;
                }
            }
            catch (Exception e) when (e is NoSuchElementException or StaleElementReferenceException)
            {
                // The page is changing under us: look again.
            }

            if (DateTime.UtcNow > until)
            {
                Screenshot("timeout");
                Assert.Fail($"timed out waiting for {what}; the page shows:\n{Driver.FindElement(By.TagName("body")).Text}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Saves what the browser shows as NAME.png under the test results directory, logs and returns the path.</summary>
    public string Screenshot(string name)
    {
        var directory = Path.Combine(ResultsDirectory(), "console");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        ((ITakesScreenshot)Driver).GetScreenshot().SaveAsFile(path);
        _output.WriteLine($"screenshot: {path}");
        return path;
    }

    /// <summary>SIDUS_TEST_RESULTS when set, else the repository's .sidus-build/test-results (./test's).</summary>
    private static string ResultsDirectory()
    {
        if (Environment.GetEnvironmentVariable("SIDUS_TEST_RESULTS") is { Length: > 0 } set)
        {
            return set;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sidus.slnx")))
            {
                return Path.Combine(dir.FullName, ".sidus-build", "test-results");
            }
        }

        return Path.Combine(Path.GetTempPath(), "sidus-test-results");
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        catch (WebDriverException)
        {
            // The browser is gone already: the process and namespace go below.
        }

        Driver.Dispose();
        _forward.Dispose();
        _driverProcess.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
