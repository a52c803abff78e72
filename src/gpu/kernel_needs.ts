import { GpuLimitError } from './device.ts';
import type { Constants } from './kernels.ts';

// What one pipeline asks of the device, read from its WGSL with its override constants, and compared with
// the device's limits before the pipeline is built: a model that cannot run is refused with one line naming
// the limit, its value and the need, instead of a validation error from deep inside the driver. The shaders
// keep to the forms read here: `@workgroup_size(A, B?, C?)` and `var<workgroup> x: array<...>` whose sizes
// are literals or single constants (override or const, from the pipeline's constants or their defaults).

export interface KernelNeeds {
  storageBuffers: number;
  uniformBuffers: number;
  workgroupSize: [number, number, number];
  workgroupStorageBytes: number;
}

export function kernelNeeds(source: string, constants: Constants): KernelNeeds {
  const value = (token: string): number => {
    const t = token.trim();
    if (/^[0-9]+u?$/.test(t)) return Number(t.replace('u', ''));
    const given = constants[t];
    if (given !== undefined) return Number(given);
    const declared = new RegExp(`(?:override|const)\\s+${t}\\s*:\\s*\\w+\\s*=\\s*([0-9]+)u?`).exec(source);
    if (!declared) throw new Error(`kernelNeeds: no value for ${t}`);
    return Number(declared[1]);
  };
  const size = /@workgroup_size\(([^)]*)\)/.exec(source);
  const dims = size ? size[1].split(',').map(value) : [1];
  let workgroupStorageBytes = 0;
  for (const m of source.matchAll(/var<workgroup>\s+\w+\s*:\s*([^;]+);/g)) workgroupStorageBytes += typeBytes(m[1], value);
  return {
    storageBuffers: source.match(/var<storage/g)?.length ?? 0,
    uniformBuffers: source.match(/var<uniform>/g)?.length ?? 0,
    workgroupSize: [dims[0], dims[1] ?? 1, dims[2] ?? 1],
    workgroupStorageBytes,
  };
}

/** Bytes of a workgroup variable's type: scalars, vectors and (nested) fixed-size arrays of them. */
function typeBytes(type: string, value: (token: string) => number): number {
  const t = type.trim();
  const array = /^array<(.+),([^,<>]+)>$/.exec(t);
  if (array) return typeBytes(array[1], value) * value(array[2]);
  const vec = /^vec([234])<\w+>$/.exec(t);
  if (vec) return 4 * (vec[1] === '3' ? 4 : Number(vec[1]));
  if (/^(f32|u32|i32|atomic<\w+>)$/.test(t)) return 4;
  throw new Error(`kernelNeeds: unknown workgroup type ${t}`);
}

/** Throws GpuLimitError naming the first limit of `limits` that `needs` exceeds. */
export function checkKernelLimits(name: string, needs: KernelNeeds, limits: GPUSupportedLimits): void {
  const [x, y, z] = needs.workgroupSize;
  const checks: Array<[keyof GPUSupportedLimits, number, string]> = [
    ['maxStorageBuffersPerShaderStage', needs.storageBuffers, 'storage buffers'],
    ['maxUniformBuffersPerShaderStage', needs.uniformBuffers, 'uniform buffers'],
    ['maxComputeInvocationsPerWorkgroup', x * y * z, 'invocations per workgroup'],
    ['maxComputeWorkgroupSizeX', x, 'workgroup size x'],
    ['maxComputeWorkgroupSizeY', y, 'workgroup size y'],
    ['maxComputeWorkgroupSizeZ', z, 'workgroup size z'],
    ['maxComputeWorkgroupStorageSize', needs.workgroupStorageBytes, 'bytes of workgroup storage'],
  ];
  for (const [limit, need, what] of checks) {
    const has = limits[limit] as number;
    if (need > has) {
      throw new GpuLimitError(`shaders/${name}.wgsl needs ${need} ${what}, over this device's ${limit} (${has})`);
    }
  }
}
