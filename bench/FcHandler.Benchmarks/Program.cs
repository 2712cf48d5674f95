using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(FcHandler.Benchmarks.ClassificationBenchmarks).Assembly).Run(args);
