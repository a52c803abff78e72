// What the engine needs from any adapter, in Node or in the page: a device with the adapter's own limits
// for what the model uses, and a one-line description of the adapter.

export class GpuLimitError extends Error {}

export interface GpuContext {
  device: GPUDevice;
  adapterName: string;
  /**
   * Everything the adapter reports about itself, as one string: what per-adapter caches are keyed by, since
   * browsers often leave the description (adapterName) empty and two adapters would then share an entry.
   */
  adapterKey: string;
  isCpuAdapter: boolean;
  hasTimestampQuery: boolean;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render|software/i;

/**
 * True for an adapter that runs on the CPU: one that says so (`isFallbackAdapter`, on GPUAdapterInfo in newer
 * implementations and on GPUAdapter in older ones), or one whose info names a software implementation
 * (SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Microsoft's WARP / Basic Render Driver). Such adapters get
 * the settings that suit a CPU (src/gpu/recurrence.ts, kernel_choice.ts), and `--backend auto` passes them over.
 */
export function isCpuAdapter(adapter: Pick<GPUAdapter, 'info'>): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (info.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE_ADAPTER.test(s));
}

export function describeAdapter(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.description || info.device].filter((s) => s && s.length > 0);
  return parts.length > 0 ? parts.join(' / ') : 'unknown adapter';
}

export interface OpenDeviceOptions {
  /**
   * 'adapter' (the default): the adapter's own limits for what the model uses. 'default': none asked for,
   * so a device with WebGPU's default limits, or on a compatibility-mode adapter its smaller compatibility
   * defaults (128 invocations per workgroup): what tests use to run the smallest device a user can have.
   */
  limits?: 'adapter' | 'default';
}

export async function openDevice(adapter: GPUAdapter, options: OpenDeviceOptions = {}): Promise<GpuContext> {
  const l = adapter.limits;
  const hasTimestampQuery = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    requiredFeatures: hasTimestampQuery ? ['timestamp-query'] : [],
    requiredLimits:
      options.limits === 'default'
        ? {}
        : {
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
            maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
            maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
            maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
            maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          },
  });
  const info = adapter.info;
  // The device's limits, not the adapter's: a compatibility-mode device can have fewer than its adapter.
  const dl = device.limits;
  return {
    device,
    adapterName: describeAdapter(info),
    adapterKey: JSON.stringify({
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      fallback: isCpuAdapter(adapter),
      limits: { storageBuffers: dl.maxStorageBuffersPerShaderStage, invocations: dl.maxComputeInvocationsPerWorkgroup },
    }),
    isCpuAdapter: isCpuAdapter(adapter),
    hasTimestampQuery,
  };
}

/** Throws naming the limit when a buffer of `bytes` cannot be bound or allocated on this device. */
export function checkBufferFits(device: GPUDevice, what: string, bytes: number): void {
  const { maxStorageBufferBindingSize, maxBufferSize } = device.limits;
  if (bytes > maxBufferSize) {
    throw new GpuLimitError(`${what} needs ${bytes} bytes, over this adapter's maxBufferSize (${maxBufferSize})`);
  }
  if (bytes > maxStorageBufferBindingSize) {
    throw new GpuLimitError(
      `${what} needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize (${maxStorageBufferBindingSize})`,
    );
  }
}
