using CortexEdge.Agent.Cli;
using CortexEdge.Core.Platform;

NativeLibraryResolver.Initialize();
return await EdgeCommandLine.Create().Parse(args).InvokeAsync();
