using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

/// <summary>
/// Decorates the real <see cref="LinuxWalFileSystem"/> with named faults and a model of what a
/// power loss would keep: a "durable image" of every file, updated only by successful (or partly
/// successful) flushes. <see cref="RestoreDurableImage"/> writes that image back over the real
/// files, which is what the disk would hold after the power came back.
/// </summary>
public sealed class FaultInjectingWalFileSystem : IWalFileSystem
{
    private readonly IWalFileSystem _inner = LinuxWalFileSystem.Instance;
    private readonly object _gate = new();
    private readonly Dictionary<string, byte[]> _durable = new(StringComparer.Ordinal);
    private readonly Dictionary<WalFaultKind, (int Skip, bool Persistent)> _armed = [];
    private readonly Dictionary<WalFaultKind, int> _fired = [];

    /// <summary>Milliseconds each msync sleeps before it runs (to make group commit visible).</summary>
    public int FlushDelayMilliseconds { get; set; }

    /// <summary>After a power cut nothing more reaches the durable image (the machine is off).</summary>
    public bool PowerCut { get; private set; }

    /// <summary>Number of msync calls seen.</summary>
    public int FlushCalls { get; private set; }

    /// <summary>Arms <paramref name="kind"/>: it fires on the matching operation after <paramref name="skip"/> successful ones, once or for good.</summary>
    public void Arm(WalFaultKind kind, int skip = 0, bool persistent = false)
    {
        lock (_gate)
        {
            _armed[kind] = (skip, persistent);
        }
    }

    /// <summary>Removes every armed fault (the disk was fixed / space was freed).</summary>
    public void Disarm()
    {
        lock (_gate)
        {
            _armed.Clear();
        }
    }

    /// <summary>How often <paramref name="kind"/> fired.</summary>
    public int Fired(WalFaultKind kind)
    {
        lock (_gate)
        {
            return _fired.GetValueOrDefault(kind);
        }
    }

    /// <summary>Cuts the power: later flushes succeed but reach nothing durable.</summary>
    public void CutPower() => PowerCut = true;

    /// <summary>
    /// Replaces every file in <paramref name="directory"/> by its durable image (deleting files
    /// that were never durable), as after a power loss. Call once the log is disposed.
    /// </summary>
    public void RestoreDurableImage(string directory)
    {
        lock (_gate)
        {
            foreach (string path in Directory.GetFiles(directory))
            {
                if (!_durable.ContainsKey(path))
                {
                    File.Delete(path);
                }
            }

            foreach ((string path, byte[] image) in _durable)
            {
                File.WriteAllBytes(path, image);
            }

            _durable.Clear();
            PowerCut = false;
        }
    }

    private bool ShouldFire(WalFaultKind kind)
    {
        lock (_gate)
        {
            if (!_armed.TryGetValue(kind, out (int Skip, bool Persistent) armed))
            {
                return false;
            }

            if (armed.Skip > 0)
            {
                _armed[kind] = (armed.Skip - 1, armed.Persistent);
                return false;
            }

            if (!armed.Persistent)
            {
                _armed.Remove(kind);
            }

            _fired[kind] = _fired.GetValueOrDefault(kind) + 1;
            return true;
        }
    }

    private static EdgeException Injected(WalFaultKind kind, string what, EdgeErrorCode code = EdgeErrorCode.WalIoError) =>
        new(code, $"injected {kind}: {what}");

    /// <inheritdoc/>
    public void CreateDirectory(string directory) => _inner.CreateDirectory(directory);

    /// <inheritdoc/>
    public IReadOnlyList<string> ListFiles(string directory, string suffix) => _inner.ListFiles(directory, suffix);

    /// <inheritdoc/>
    public IWalFile Open(string path, WalFileMode mode)
    {
        IWalFile file = _inner.Open(path, mode);
        lock (_gate)
        {
            if (mode == WalFileMode.CreateNew)
            {
                _durable[path] = [];
            }
            else if (!_durable.ContainsKey(path))
            {
                _durable[path] = File.ReadAllBytes(path); // existed before this run: durable as found
            }
        }

        return new FaultyFile(this, file);
    }

    /// <inheritdoc/>
    public void Rename(string sourcePath, string targetPath)
    {
        _inner.Rename(sourcePath, targetPath);
        lock (_gate)
        {
            if (!PowerCut && _durable.Remove(sourcePath, out byte[]? image))
            {
                _durable[targetPath] = image;
            }
        }
    }

    /// <inheritdoc/>
    public void Delete(string path)
    {
        _inner.Delete(path);
        lock (_gate)
        {
            if (!PowerCut)
            {
                _durable.Remove(path);
            }
        }
    }

    /// <inheritdoc/>
    public void SyncDirectory(string directory)
    {
        if (ShouldFire(WalFaultKind.SyncDirectoryFails))
        {
            throw Injected(WalFaultKind.SyncDirectoryFails, $"fsync of directory '{directory}'");
        }

        _inner.SyncDirectory(directory);
    }

    private void Persist(string path, IWalMapping mapping, long offset, long length)
    {
        lock (_gate)
        {
            if (PowerCut || !_durable.TryGetValue(path, out byte[]? image))
            {
                return;
            }

            long end = Math.Min(offset + length, image.Length);
            if (end > offset)
            {
                unsafe
                {
                    new ReadOnlySpan<byte>((byte*)mapping.Address + offset, (int)(end - offset)).CopyTo(image.AsSpan((int)offset));
                }
            }
        }
    }

    private void Resize(string path, long length)
    {
        lock (_gate)
        {
            if (!PowerCut && _durable.TryGetValue(path, out byte[]? image) && image.Length != length)
            {
                byte[] resized = new byte[length];
                image.AsSpan(0, (int)Math.Min(length, image.Length)).CopyTo(resized);
                _durable[path] = resized;
            }
        }
    }

    private sealed class FaultyFile(FaultInjectingWalFileSystem owner, IWalFile inner) : IWalFile
    {
        // The path the durable image is kept under: the segment's path after its rename.
        public string Path => inner.Path;

        public long Length => inner.Length;

        public void Preallocate(long lengthBytes)
        {
            if (owner.ShouldFire(WalFaultKind.NoSpaceAtPreallocate))
            {
                throw Injected(WalFaultKind.NoSpaceAtPreallocate, $"no space left on device preallocating '{Path}'", EdgeErrorCode.DiskFull);
            }

            inner.Preallocate(lengthBytes);
            owner.Resize(Path, Math.Max(lengthBytes, inner.Length));
        }

        public void Truncate(long lengthBytes)
        {
            inner.Truncate(lengthBytes);
            owner.Resize(Path, lengthBytes);
        }

        public void SyncData()
        {
            if (owner.ShouldFire(WalFaultKind.SyncDataFails))
            {
                throw Injected(WalFaultKind.SyncDataFails, $"fdatasync of '{Path}'");
            }

            inner.SyncData();
        }

        public IWalMapping Map(long lengthBytes, bool writable) => new FaultyMapping(owner, this, inner.Map(lengthBytes, writable));

        public void Dispose() => inner.Dispose();
    }

    private sealed class FaultyMapping(FaultInjectingWalFileSystem owner, FaultyFile file, IWalMapping inner) : IWalMapping
    {
        public nint Address => inner.Address;

        public long Length => inner.Length;

        public void Flush(long offset, long lengthBytes)
        {
            lock (owner._gate)
            {
                owner.FlushCalls++;
            }

            if (owner.FlushDelayMilliseconds > 0)
            {
                Thread.Sleep(owner.FlushDelayMilliseconds);
            }

            // The segment is renamed after its header flush: the file's current name is where it lives.
            string path = CurrentPath(file.Path);
            if (offset == 0 && lengthBytes == WalSegmentHeader.HeaderBytes)
            {
                // A new segment's header: flush faults target record data (creation faults are separate kinds).
                inner.Flush(offset, lengthBytes);
                owner.Persist(path, inner, offset, lengthBytes);
                return;
            }

            if (owner.ShouldFire(WalFaultKind.FlushFails))
            {
                throw Injected(WalFaultKind.FlushFails, $"msync of '{path}' [{offset}, {offset + lengthBytes})");
            }

            if (owner.ShouldFire(WalFaultKind.ShortWrite))
            {
                long half = lengthBytes / 2;
                inner.Flush(offset, half);
                owner.Persist(path, inner, offset, half);
                throw Injected(WalFaultKind.ShortWrite, $"only {half} of {lengthBytes} bytes of '{path}' written");
            }

            if (owner.ShouldFire(WalFaultKind.Eio))
            {
                int pageSize = Environment.SystemPageSize;
                for (long page = offset, index = 0; page < offset + lengthBytes; page += pageSize, index++)
                {
                    if (index % 2 == 0)
                    {
                        owner.Persist(path, inner, page, Math.Min(pageSize, offset + lengthBytes - page));
                    }
                }

                throw Injected(WalFaultKind.Eio, $"EIO writing back '{path}'");
            }

            inner.Flush(offset, lengthBytes);
            owner.Persist(path, inner, offset, lengthBytes);
        }

        public void Evict(long offset, long lengthBytes) => inner.Evict(offset, lengthBytes);

        private string CurrentPath(string path)
        {
            lock (owner._gate)
            {
                if (owner._durable.ContainsKey(path))
                {
                    return path;
                }

                // Created as "<name>.tmp" and renamed to "<name>" while mapped.
                string renamed = path.EndsWith(".tmp", StringComparison.Ordinal) ? path[..^4] : path;
                return renamed;
            }
        }

        public void Dispose() => inner.Dispose();
    }
}
