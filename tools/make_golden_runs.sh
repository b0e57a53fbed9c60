#!/usr/bin/env bash
# Records the golden run stores (tests/Migu.Continual.Tests/Fixtures/golden-runs/NAME/expected/) that
# GoldenRunTests compares every later build against: each NAME/recipe.json is run on the CPU with the
# current code and its store's comparable files (wall times removed) are written next to it.
# Run it only when a change of behaviour is intended, and say so in the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
MIGU_WRITE_GOLDEN_RUNS=1 dotnet test tests/Migu.Continual.Tests --filter "FullyQualifiedName~GoldenRunTests" "$@"
