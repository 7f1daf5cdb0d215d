using System.Diagnostics.CodeAnalysis;

namespace Sidus.Nodes;

/// <summary>Throw helpers: keep the calling methods short and the messages in one style.</summary>
internal static class Throw
{
    [DoesNotReturn]
    public static void Invalid(string message) => throw new InventoryException(InventoryErrorKind.Invalid, message);

    [DoesNotReturn]
    public static T Invalid<T>(string message) => throw new InventoryException(InventoryErrorKind.Invalid, message);

    [DoesNotReturn]
    public static void NotFound(string message) => throw new InventoryException(InventoryErrorKind.NotFound, message);

    [DoesNotReturn]
    public static T NotFound<T>(string message) => throw new InventoryException(InventoryErrorKind.NotFound, message);

    [DoesNotReturn]
    public static void Conflict(string message) => throw new InventoryException(InventoryErrorKind.Conflict, message);
}
