// The AsyncAPI parser from npm (@asyncapi/parser) over the documents `harness contract export`
// writes: node asyncapi_parse.js FILE... prints, per file, its diagnostics as one JSON line
// {"file", "valid", "errors", "warnings"}; exit 1 when any document has an error.
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

async function main(files) {
  const parser = new Parser();
  let failed = false;
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"));
    const show = (d) => ({ code: d.code, message: d.message, path: d.path.join("/") });
    const errors = diagnostics.filter((d) => d.severity === 0).map(show);
    const warnings = diagnostics.filter((d) => d.severity === 1).map(show);
    const valid = document !== undefined && errors.length === 0;
    const summary = valid
      ? {
          channels: document.channels().length,
          operations: document.operations().length,
          messages: document.allMessages().all().map((m) => m.id()),
        }
      : {};
    console.log(JSON.stringify({ file, valid, errors, warnings, ...summary }));
    failed = failed || !valid;
  }
  process.exit(failed ? 1 : 0);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(2);
});
