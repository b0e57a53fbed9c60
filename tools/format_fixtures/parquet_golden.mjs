// Writes the Parquet fixtures of the task-format tests with an independent writer, arrow-rs
// (the Rust Arrow/Parquet implementation, compiled to WebAssembly as the npm package parquet-wasm),
// so our Parquet.Net-based reader is checked on files it did not write itself.
//
//   work=$(mktemp -d) && cp tools/format_fixtures/parquet_golden.mjs "$work"
//   (cd "$work" && npm install parquet-wasm@0.7.1 apache-arrow@21.1.0)
//   node "$work/parquet_golden.mjs" tests/Migu.Continual.Tests/Fixtures/formats
//
// classlabel.parquet: as Hugging Face datasets stores a ClassLabel: "text" (string) and "label"
//   (int64 class ids), the features in the file's "huggingface" metadata, snappy, dictionary
//   encoding, row groups of 4 rows.
// strings.parquet: "sentence" and "label" as nullable strings (no nulls), zstd, one row group.
// floatlabel.parquet: a double "label" column, which the reader must refuse by name.
// The readable ones come with NAME.expected.json, the rows as written.
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import initWasm, * as parquet from "parquet-wasm/esm";

// The package's Node build does not load as published; its ESM build does, given the module's bytes.
await initWasm({ module_or_path: readFileSync(createRequire(import.meta.url).resolve("parquet-wasm/esm/parquet_wasm_bg.wasm")) });

const out = process.argv[2];
mkdirSync(out, { recursive: true });

const names = ["World", "Sports", "Business", "Sci/Tech"];
const texts = [
  "Stocks rally as markets reopen", "Cup final goes to extra time", "Rover finds water ice",
  "Leaders meet for climate talks", "Chip maker doubles profit", "Sprinter sets a new record",
  "Comet passes close to Earth", "Trade pact signed, with caveats", "Café owners \"cautious\"",
  "Line one\nline two",
];
const ids = [2, 1, 3, 0, 2, 1, 3, 0, 2, 3];

function write(name, columns, properties, expected) {
  const table = parquet.Table.fromIPCStream(tableToIPC(tableFromArrays(columns), "stream"));
  writeFileSync(join(out, `${name}.parquet`), parquet.writeParquet(table, properties));
  if (expected !== null) {
    writeFileSync(join(out, `${name}.expected.json`), JSON.stringify(expected, null, 1) + "\n");
  }
}

const features = {
  info: {
    features: {
      text: { dtype: "string", _type: "Value" },
      label: { names, _type: "ClassLabel" },
    },
  },
};
write(
  "classlabel",
  { text: texts, label: BigInt64Array.from(ids.map(BigInt)) },
  new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setDictionaryEnabled(true)
    .setMaxRowGroupSize(4)
    .setKeyValueMetadata(new Map([["huggingface", JSON.stringify(features)]]))
    .build(),
  texts.map((t, i) => ({ sentence: t, label: names[ids[i]] })));

write(
  "strings",
  { sentence: texts, label: ids.map(i => names[i]) },
  new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).build(),
  texts.map((t, i) => ({ sentence: t, label: names[ids[i]] })));

write(
  "floatlabel",
  { sentence: texts.slice(0, 2), label: Float64Array.from([0.5, 1.5]) },
  new parquet.WriterPropertiesBuilder().build(),
  null);
