#!/usr/bin/env bash
# Makes the NuGet packages into OUT_DIR (default artifacts/packages): Migu.Core, Migu.Models,
# Migu.Continual, Migu.Reports and the migu tool (Migu.Cli, which points to Migu.Cli.linux-x64), each
# with its .snupkg. One commit packs to the same bytes wherever it is checked out:
# ContinuousIntegrationBuild maps source paths to /_/ in the PDBs, and NuGet stamps every file in the
# packages with SOURCE_DATE_EPOCH (default: the commit's time) instead of the clock.
# Further arguments go to every dotnet pack, e.g.
#   tools/pack.sh /tmp/feed --version-suffix preview.1
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-artifacts/packages}")
shift || true
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && commit_time=$(git log -1 --format=%ct 2>/dev/null); then
  export SOURCE_DATE_EPOCH=$commit_time
fi
for project in Migu.Core Migu.Models Migu.Continual Migu.Reports Migu.Cli; do
  dotnet pack "src/$project" -c Release -p:ContinuousIntegrationBuild=true -o "$OUT" --nologo "$@"
done
ls -l "$OUT"
