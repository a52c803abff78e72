// Where a command writes: stdout carries the results (losses, samples, JSON Lines), stderr the status lines
// (device, data, saves). `isTTY` is stdout's: the progress bar is drawn only on a terminal.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
};

/** One JSON Lines record on stdout. */
export function jsonLine(io: Io, record: Record<string, unknown>): void {
  io.out(JSON.stringify(record) + '\n');
}
