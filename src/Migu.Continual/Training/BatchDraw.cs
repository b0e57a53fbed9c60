namespace Migu.Continual.Training;

/// <summary>
/// Where a training batch is drawn: the run seed, the task (or domain) and the epoch. Dynamic
/// masking seeds each item from (draw, item index), so an item's noise is new every epoch yet does
/// not depend on which batch or micro-batch the item lands in, nor on a resume.
/// </summary>
public readonly record struct BatchDraw(long Seed, int TaskIndex, int Epoch);
