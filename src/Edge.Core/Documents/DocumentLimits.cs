namespace CortexEdge.Core.Documents;

/// <summary>Size limits of documents, checked on every write and on every decode.</summary>
public static class DocumentLimits
{
    /// <summary>Longest collection name in UTF-8 bytes.</summary>
    public const int CollectionNameBytesMax = 128;

    /// <summary>Longest document key in UTF-8 bytes.</summary>
    public const int KeyBytesMax = 1024;

    /// <summary>Longest field name in UTF-8 bytes.</summary>
    public const int FieldNameBytesMax = 256;

    /// <summary>Most fields in one document or operation.</summary>
    public const int FieldCountMax = 4096;

    /// <summary>Largest encoded operation or document state in bytes.</summary>
    public const int EncodedBytesMax = 1 << 20;
}
