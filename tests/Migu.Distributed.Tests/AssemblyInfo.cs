// In-process tests train models from libtorch's process-wide generator, and the process tests
// start several ranks on a two-core machine: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
