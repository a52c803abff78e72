import { processIo } from './io.ts';
import { run } from './run.ts';

// The entry point of bin/char-rnn.mjs. It exits explicitly: a GPU device can keep the event loop alive
// after the command is done. Waiting for stdout and stderr first keeps the end of piped output.
const code = await run(process.argv.slice(2), processIo);
await new Promise<void>((done) => process.stdout.write('', () => process.stderr.write('', () => done())));
process.exit(code);
