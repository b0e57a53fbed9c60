#!/usr/bin/env bash
# Makes the NuGet packages into OUT_DIR (default artifacts/packages): Migu.Core, Migu.Models,
# Migu.Continual, Migu.Reports and the migu tool (Migu.Cli, which points to Migu.Cli.linux-x64), each
# with its .snupkg. ContinuousIntegrationBuild maps source paths to /_/ in the PDBs, so one commit
# packs to the same bytes wherever it is checked out. Further arguments go to every dotnet pack, e.g.
#   tools/pack.sh /tmp/feed --version-suffix preview.1
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-artifacts/packages}")
shift || true
for project in Migu.Core Migu.Models Migu.Continual Migu.Reports Migu.Cli; do
  dotnet pack "src/$project" -c Release -p:ContinuousIntegrationBuild=true -o "$OUT" --nologo "$@"
done
ls -l "$OUT"
