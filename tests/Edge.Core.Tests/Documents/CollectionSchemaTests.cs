using CortexEdge.Core.Documents;

namespace CortexEdge.Core.Tests.Documents;

public sealed class CollectionSchemaTests
{
    [Fact]
    public void TypeOf_UndeclaredField_IsLwwRegister()
    {
        var schema = new CollectionSchema("c", new Dictionary<string, DocumentFieldType> { ["n"] = DocumentFieldType.PnCounter });
        Assert.Equal(DocumentFieldType.PnCounter, schema.TypeOf("n"));
        Assert.Equal(DocumentFieldType.LwwRegister, schema.TypeOf("other"));
    }

    [Fact]
    public void Constructor_UnknownType_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new CollectionSchema("c", new Dictionary<string, DocumentFieldType> { ["n"] = (DocumentFieldType)99 }));
        Assert.Contains("unknown type 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentCrdtFieldDecode_LwwOrUnknownTypeByte_IsMalformed()
    {
        foreach (byte[] input in new[] { Array.Empty<byte>(), [0], [6, 1, 2] })
        {
            var error = Assert.Throws<EdgeException>(() => DocumentCrdtField.Decode(input));
            Assert.Equal(EdgeErrorCode.CrdtMalformed, error.Code);
        }
    }
}
