// A two-task continual run with MIGU on the demo data embedded in Migu.Continual: a tiny model
// trained from scratch on agnews, then on dbpedia, and scored on both tasks after each one.
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;

var recipe = new Recipe
{
    Model = "llama-tiny",                       // a preset (random weights) or a Hugging Face checkpoint directory
    Tasks = ["agnews", "dbpedia"],              // no Data root: the embedded demo stream
    Method = "ft",                              // ft, lora, replay, inclora, olora, ewc, mtl or random
    Migu = new MiguOptions { Threshold = 0.7 }, // each step, 70% of a layer's output rows (the weakest) keep no gradient
    Training = new TrainingSettings { Epochs = 1, Batch = 8, Lr = 3e-3, MaxSourceLength = 256, MaxTargetLength = 16 },
    DataOptions = new DataSettings { MaxTrain = 32, MaxTest = 16 },
    Eval = new EvalSettings { Mode = EvalMode.Rank },  // score by the most likely label, as a tiny model rarely writes one
};
string runDirectory = Directory.CreateTempSubdirectory("migu-example-").FullName; // the run store; run again to resume
RunMetrics metrics = new ContinualRunner(recipe, RunTasks.Load(recipe), runDirectory).Run();
Console.WriteLine($"ACC {100 * metrics.Acc:F1}  BWT {100 * metrics.Bwt:F1}  ({runDirectory})");
