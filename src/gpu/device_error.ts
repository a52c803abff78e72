// A GPU that stops working under the engine: the device was lost (destroyed, driver reset, out of memory)
// or reported an error outside any error scope. Not the user's input and not a bug in the caller: the
// CLI prints one line and exits with code 1, after saving the last state it knows to be good.

export class GpuDeviceError extends Error {}

/** The message of a lost device, from its GPUDeviceLostInfo. */
export function deviceLostMessage(info: GPUDeviceLostInfo): string {
  if (info.reason === 'destroyed') return 'the GPU device was destroyed';
  return `the GPU device was lost${info.message ? ` (${info.message.replace(/\s*\n\s*/g, ' ').trim()})` : ''}`;
}
