namespace CortexEdge.Sync.Fleet;

/// <summary>An <see cref="IAntiEntropySource"/> that can also hand out a document, so a verifier can repair what differs.</summary>
public interface IAntiEntropyDocumentSource : IAntiEntropySource
{
    /// <summary>The state of <paramref name="key"/> as this replica holds it (the bytes its item hash covers).</summary>
    AntiEntropyDocument GetDocument(string key);
}
