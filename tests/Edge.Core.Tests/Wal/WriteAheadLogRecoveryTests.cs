using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WriteAheadLogRecoveryTests
{
    private const int RecordCount = 6;

    [Fact]
    public void Open_EmptyDirectory_CreatesFirstSegmentStartingAtLsnOne()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            Assert.Equal(1, log.FirstLsn);
            Assert.Equal(0, log.LastLsn);
            Assert.Equal(0, log.Recovery.RecordCount);
            Assert.False(log.OpenReader(1).TryRead(out _));
        }

        Assert.Equal("00000000000000000001.wal", Path.GetFileName(Assert.Single(dir.Segments())));
    }

    [Fact]
    public void Open_AfterCleanClose_RecoversEveryRecordAcrossSegments()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 300);
        }

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        Assert.True(reopened.Recovery.SegmentCount > 3, $"only {reopened.Recovery.SegmentCount} segments");
        Assert.Equal(300, reopened.Recovery.RecordCount);
        Assert.Equal(0, reopened.Recovery.TruncatedBytes);
        WalLogAssert.HoldsExactly(reopened, 1, 300, "clean reopen");
        Assert.Equal(301, reopened.Append(WalRecordKind.Document, [1]));
    }

    [Fact]
    public void Open_TornTailAtEveryByteOfTheLastRecord_KeepsExactlyTheCompleteRecords()
    {
        using var dir = new WalTestDirectory();
        byte[] original = WriteSmallLog(dir);
        (long lastOffset, int lastLength) = WalLogAssert.RecordExtents(original)[^1];
        string segment = dir.Segments()[0];

        // Zeroing only the (already zero) padding leaves the record complete.
        bool Intact(byte[] torn) => torn.AsSpan((int)lastOffset, lastLength).SequenceEqual(original.AsSpan((int)lastOffset, lastLength));
        for (long cut = lastOffset; cut <= lastOffset + lastLength; cut++)
        {
            // Only the bytes before the cut reached the disk.
            byte[] torn = (byte[])original.Clone();
            torn.AsSpan((int)cut, (int)(lastOffset + lastLength - cut)).Clear();
            AssertRecoversPrefix(dir, segment, torn, Intact(torn) ? RecordCount : RecordCount - 1, $"prefix cut at {cut}");

            // Only the bytes from the cut on reached the disk (pages written back out of order).
            torn = (byte[])original.Clone();
            torn.AsSpan((int)lastOffset, (int)(cut - lastOffset)).Clear();
            AssertRecoversPrefix(dir, segment, torn, Intact(torn) ? RecordCount : RecordCount - 1, $"suffix from {cut}");
        }
    }

    [Fact]
    public void Open_TornTailOfGarbage_IsCutAndLogAcceptsAppendsAfterIt()
    {
        using var dir = new WalTestDirectory();
        byte[] original = WriteSmallLog(dir);
        (long lastOffset, int lastLength) = WalLogAssert.RecordExtents(original)[^1];
        byte[] torn = (byte[])original.Clone();
        new Random(5).NextBytes(torn.AsSpan((int)lastOffset + 3, lastLength - 3));
        File.WriteAllBytes(dir.Segments()[0], torn);

        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            Assert.Equal(RecordCount - 1, log.LastLsn);
            Assert.Equal($"00000000000000000001.wal offset {lastOffset}", log.Recovery.TornTailLocation);
            Assert.True(log.Recovery.TruncatedBytes >= lastLength - 3, $"truncated {log.Recovery.TruncatedBytes}");
            WalLogAssert.Fill(log, 3);
        }

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        Assert.Equal(0, reopened.Recovery.TruncatedBytes);
        WalLogAssert.HoldsExactly(reopened, 1, RecordCount + 2, "appends after the cut tail");
    }

    [Fact]
    public void Open_EverySingleBitFlipInARecordWithValidRecordsAfterIt_IsRefusedNamingSegmentAndOffset()
    {
        using var dir = new WalTestDirectory();
        byte[] original = WriteSmallLog(dir);
        string segment = dir.Segments()[0];
        List<(long Offset, int Length)> extents = WalLogAssert.RecordExtents(original);
        foreach (int victim in new[] { 0, RecordCount / 2, RecordCount - 2 })
        {
            (long offset, int length) = extents[victim];
            for (int bit = 0; bit < length * 8; bit++)
            {
                byte[] damaged = (byte[])original.Clone();
                damaged[offset + bit / 8] ^= (byte)(1 << (bit % 8));
                File.WriteAllBytes(segment, damaged);
                var error = Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)));
                Assert.Equal(EdgeErrorCode.WalCorrupt, error.Code);
                Assert.Contains($"00000000000000000001.wal at byte offset {offset}", error.Message, StringComparison.Ordinal);
                Assert.Equal($"{segment} offset {offset}", error.Location);

                // Refusing changes nothing on disk, and verify names the same place.
                Assert.Equal(damaged, File.ReadAllBytes(segment));
                WalVerifyResult verify = WriteAheadLog.Verify(dir.Path);
                Assert.False(verify.IsClean);
                Assert.Equal(offset, verify.Corruption!.Offset);
            }
        }
    }

    [Fact]
    public void Open_InvalidRecordFollowedByValidSegment_IsRefused()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 200);
        }

        string[] segments = dir.Segments();
        byte[] first = File.ReadAllBytes(segments[0]);
        (long lastOffset, _) = WalLogAssert.RecordExtents(first)[^1];
        first[lastOffset + 4] ^= 0x10; // the CRC of the first segment's last record
        File.WriteAllBytes(segments[0], first);

        var error = Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)));
        Assert.Contains($"{Path.GetFileName(segments[0])} at byte offset {lastOffset}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingMiddleSegment_IsRefusedAsGap()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 300);
        }

        string[] segments = dir.Segments();
        File.Delete(segments[1]);
        var error = Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)));
        Assert.Contains(Path.GetFileName(segments[2]), error.Message, StringComparison.Ordinal);
        Assert.Contains("records are missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_DamagedSegmentHeader_IsRefusedAtOffsetZero()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 300);
        }

        string[] segments = dir.Segments();
        byte[] bytes = File.ReadAllBytes(segments[1]);
        bytes[35] ^= 1; // first LSN
        File.WriteAllBytes(segments[1], bytes);
        var error = Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)));
        Assert.Contains($"{Path.GetFileName(segments[1])} at byte offset 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TornTailInFullSegmentFollowedByEmptySegment_CutsTailAndDropsEmptySegment()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 120);
        }

        // Keep the first two segments; turn the second's last record into a torn one; make the third empty.
        string[] segments = dir.Segments();
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        for (int i = 3; i < segments.Length; i++)
        {
            File.Delete(segments[i]);
        }

        byte[] second = File.ReadAllBytes(segments[1]);
        List<(long Offset, int Length)> extents = WalLogAssert.RecordExtents(second);
        second.AsSpan((int)extents[^1].Offset + 8, extents[^1].Length - 8).Clear();
        File.WriteAllBytes(segments[1], second);
        byte[] third = File.ReadAllBytes(segments[2]);
        third.AsSpan(WalSegmentHeader.HeaderBytes).Clear();
        File.WriteAllBytes(segments[2], third);
        long secondFirstLsn = long.Parse(Path.GetFileNameWithoutExtension(segments[1]), System.Globalization.CultureInfo.InvariantCulture);
        long expectedLast = secondFirstLsn + extents.Count - 2;

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        Assert.Equal(1, reopened.Recovery.DeletedSegmentCount);
        Assert.Equal(2, reopened.SegmentCount);
        WalLogAssert.HoldsExactly(reopened, 1, expectedLast, "torn before empty segment");
        Assert.Equal(expectedLast + 1, reopened.Append(WalRecordKind.Document, TestRandom.Payload(expectedLast + 1)));
    }

    [Fact]
    public void Open_LeftoverTemporarySegment_IsRemoved()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            WalLogAssert.Fill(log, 3);
        }

        string leftover = Path.Combine(dir.Path, "00000000000000000004.wal.tmp");
        File.WriteAllBytes(leftover, new byte[100]);
        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        Assert.False(File.Exists(leftover));
        WalLogAssert.HoldsExactly(reopened, 1, 3, "after leftover");
    }

    [Fact]
    public void Verify_CleanLog_ReportsCountsAndTornTailWithoutChangingFiles()
    {
        using var dir = new WalTestDirectory();
        byte[] original = WriteSmallLog(dir);
        WalVerifyResult clean = WriteAheadLog.Verify(dir.Path);
        Assert.True(clean.IsClean);
        Assert.Equal(RecordCount, clean.RecordCount);
        Assert.Equal((1L, (long)RecordCount, 1), (clean.FirstLsn, clean.LastLsn, clean.SegmentCount));
        Assert.Equal(0, clean.TornTailBytes);

        (long lastOffset, int lastLength) = WalLogAssert.RecordExtents(original)[^1];
        byte[] torn = (byte[])original.Clone();
        torn.AsSpan((int)lastOffset + 16, lastLength - 16).Clear();
        File.WriteAllBytes(dir.Segments()[0], torn);
        WalVerifyResult tornResult = WriteAheadLog.Verify(dir.Path);
        Assert.True(tornResult.IsClean);
        Assert.Equal(RecordCount - 1, tornResult.LastLsn);
        Assert.Equal($"00000000000000000001.wal offset {lastOffset}", tornResult.TornTailLocation);
        Assert.Equal(torn, File.ReadAllBytes(dir.Segments()[0]));
    }

    [Fact]
    public void Salvage_MidLogCorruption_KeepsRecordsBeforeIt_DropsTheRest_RaisesEpoch()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 300);
        }

        string[] segments = dir.Segments();
        byte[] second = File.ReadAllBytes(segments[1]);
        List<(long Offset, int Length)> extents = WalLogAssert.RecordExtents(second);
        (long damagedOffset, _) = extents[3];
        second[damagedOffset + 25] ^= 0x40;
        File.WriteAllBytes(segments[1], second);
        long secondFirstLsn = long.Parse(Path.GetFileNameWithoutExtension(segments[1]), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)));

        WalSalvageResult salvage = WriteAheadLog.Salvage(dir.Path);
        Assert.Equal(damagedOffset, salvage.Corruption!.Offset);
        Assert.Equal(secondFirstLsn + 2, salvage.LastKeptLsn);
        Assert.Equal(segments.Length - 2, salvage.DroppedSegmentCount);
        Assert.Equal(2UL, salvage.LogEpoch);
        Assert.True(salvage.DroppedBytes > 0);

        using WriteAheadLog reopened = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
        Assert.Equal(0, reopened.Recovery.TruncatedBytes);
        Assert.Equal(2UL, reopened.LogEpoch);
        WalLogAssert.HoldsExactly(reopened, 1, secondFirstLsn + 2, "salvaged");
        Assert.Null(WriteAheadLog.Salvage(dir.Path).Corruption);
    }

    [Fact]
    public void Open_SegmentFileShorterThanItsHeaderSays_IsRefused()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            WalLogAssert.Fill(log, 3);
        }

        using (var stream = new FileStream(dir.Segments()[0], FileMode.Open))
        {
            stream.SetLength(4096);
        }

        var error = Assert.Throws<EdgeCorruptionException>(() => WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)));
        Assert.Contains("4096 bytes but its header says 8192", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnexpectedFileName_ReportsIt()
    {
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            WalLogAssert.Fill(log, 3);
        }

        File.WriteAllBytes(Path.Combine(dir.Path, "stray.wal"), [1, 2, 3]);
        WalVerifyResult result = WriteAheadLog.Verify(dir.Path);
        Assert.False(result.IsClean);
        Assert.Contains("stray.wal", result.Corruption!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenAndVerify_RandomlyDamagedSegments_ReturnTypedResultsAndAgree()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_WAL_FUZZ_ITERATIONS", 150);
        using var dir = new WalTestDirectory();
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096)))
        {
            WalLogAssert.Fill(log, 120);
        }

        string[] paths = dir.Segments();
        byte[][] originals = [.. paths.Select(File.ReadAllBytes)];
        for (int i = 0; i < iterations; i++)
        {
            for (int s = 0; s < paths.Length; s++)
            {
                File.WriteAllBytes(paths[s], originals[s]);
            }

            int victim = random.Next(paths.Length);
            byte[] bytes = (byte[])originals[victim].Clone();
            int start = random.Next(bytes.Length);
            int length = random.Next(1, 64);
            for (int b = start; b < Math.Min(bytes.Length, start + length); b++)
            {
                bytes[b] = random.Next(3) == 0 ? (byte)0 : (byte)random.Next(256);
            }

            File.WriteAllBytes(paths[victim], bytes);
            WalVerifyResult verify = WriteAheadLog.Verify(dir.Path);
            try
            {
                using WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None, segmentBytes: 4096));
                Assert.True(verify.IsClean, $"seed {seed} iteration {i}: open accepted what verify called corrupt: {verify.Corruption?.Reason}");
                Assert.Equal(verify.LastLsn, log.LastLsn);
                WalLogAssert.HoldsExactly(log, 1, log.LastLsn, $"seed {seed} iteration {i}");
            }
            catch (EdgeCorruptionException ex)
            {
                Assert.False(verify.IsClean, $"seed {seed} iteration {i}: verify clean but open refused: {ex.Message}");
                Assert.Contains(verify.Corruption!.Location.Split(' ')[0], ex.Message, StringComparison.Ordinal);
            }

            // Open may have cut a torn tail or dropped empty segments: restore the full set next round.
            foreach (string path in Directory.GetFiles(dir.Path))
            {
                File.Delete(path);
            }
        }
    }

    private static byte[] WriteSmallLog(WalTestDirectory dir)
    {
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            WalLogAssert.Fill(log, RecordCount);
        }

        return File.ReadAllBytes(dir.Segments()[0]);
    }

    private static void AssertRecoversPrefix(WalTestDirectory dir, string segment, byte[] bytes, long expectedLast, string context)
    {
        File.WriteAllBytes(segment, bytes);
        using (WriteAheadLog log = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None)))
        {
            WalLogAssert.HoldsExactly(log, 1, expectedLast, context);
        }

        // Recovery is deterministic and leaves a clean log: a second open cuts nothing more.
        using WriteAheadLog again = WriteAheadLog.Open(dir.Path, WalLogAssert.Small(WalDurability.None));
        Assert.True(again.Recovery.TruncatedBytes == 0, $"{context}: second open truncated {again.Recovery.TruncatedBytes} bytes");
        WalLogAssert.HoldsExactly(again, 1, expectedLast, context + " (second open)");
    }
}
