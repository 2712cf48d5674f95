namespace FcHandler.Limits;

/// <summary>
/// What a token budget is counted over. Days and months start at midnight at <c>LIMITS_UTC_OFFSET</c>, by the store's
/// clock; a total never starts again.
/// </summary>
internal enum BudgetPeriod
{
    Day,
    Month,
    Total,
}
