// TorchSharp's RNG and thread-local dispose statistics are process state; keep tests sequential.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
