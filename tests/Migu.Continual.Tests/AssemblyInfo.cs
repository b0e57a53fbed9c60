// Training draws from libtorch's process-wide random generator (initialisation, dropout); tests
// that train run one at a time so each sees exactly the draws its seed implies.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
