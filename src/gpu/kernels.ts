// The one place shader text becomes pipelines. WGSL files are complete programs whose sizes are
// `override` constants; this loader sets them at pipeline creation (after checking what the pipeline needs
// against the device's limits) and caches modules and pipelines, so the scheduler builds everything once,
// up front.

import { checkKernelLimits, kernelNeeds } from './kernel_needs.ts';

/** Returns the text of shaders/<name>.wgsl: read from disk in Node, bundled by Vite in the page. */
export type ShaderSource = (name: string) => string;

export type Constants = Record<string, number | boolean>;

export class ShaderError extends Error {}

export interface KernelLibraryOptions {
  /** Write every pipeline's constants into its source (tests force the path the fallback takes). */
  constantsInSource?: boolean;
}

export class KernelLibrary {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly compilation = new Map<string, Promise<GPUCompilationInfo>>();
  /**
   * Shaders whose `override` constants are written into the source as `const`s, one module per set of
   * constants: those a shader compiler rejected with overrides (older wgpu, in Firefox and Deno, does not
   * take override-sized workgroup arrays) but accepts so. Each shape has a pipeline of its own anyway.
   */
  private readonly inSource = new Set<string>();

  constructor(
    readonly device: GPUDevice,
    private readonly source: ShaderSource,
    private readonly options: KernelLibraryOptions = {},
  ) {}

  pipeline(name: string, constants: Constants): GPUComputePipeline {
    const key = `${name}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      checkKernelLimits(name, kernelNeeds(this.source(name), constants), this.device.limits);
      const inSource = this.options.constantsInSource === true || this.inSource.has(name);
      const overrides: Record<string, number> = {};
      if (!inSource) for (const [k, v] of Object.entries(constants)) overrides[k] = typeof v === 'boolean' ? Number(v) : v;
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: inSource ? this.module(name, constants) : this.module(name), entryPoint: 'main', constants: overrides },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Compiles every named shader and throws the first compilation error with its line, unless the shader
   * compiles with its constants written into the source, which its pipelines then do.
   */
  async checkCompilation(names: string[]): Promise<void> {
    for (const name of names) {
      const error = await this.firstError(name, this.module(name));
      if (!error) continue;
      if (!(await this.firstError(`${name} (constants in source)`, this.module(name, {})))) {
        this.inSource.add(name);
        continue;
      }
      throw new ShaderError(`shaders/${name}.wgsl:${error.lineNum}:${error.linePos}: ${error.message}`);
    }
  }

  private async firstError(key: string, module: GPUShaderModule): Promise<GPUCompilationMessage | undefined> {
    // Asked once per module: in Chromium a second getCompilationInfo() on a module never resolves.
    let info = this.compilation.get(key);
    if (!info) this.compilation.set(key, (info = module.getCompilationInfo()));
    return (await info).messages.find((m) => m.type === 'error');
  }

  /** The shader's module; with `constants`, the one with them (and the other overrides' defaults) as consts. */
  private module(name: string, constants?: Constants): GPUShaderModule {
    const key = constants ? `${name}:${JSON.stringify(constants)}` : name;
    let module = this.modules.get(key);
    if (!module) {
      const code = constants ? constantsInSource(this.source(name), constants) : this.source(name);
      module = this.device.createShaderModule({ label: key, code });
      this.modules.set(key, module);
    }
    return module;
  }
}

/**
 * `override NAME: T (= default);` becomes `const NAME: T = value;` for each given constant, and for each one
 * with a default; an override with neither stays (its pipeline fails as it would have).
 */
export function constantsInSource(source: string, constants: Constants): string {
  return source.replace(/override\s+(\w+)\s*:\s*(\w+)\s*(?:=\s*([^;]+))?;/g, (whole, name: string, type: string, initial?: string) => {
    const given = constants[name];
    if (given === undefined) return initial === undefined ? whole : `const ${name}: ${type} = ${initial.trim()};`;
    return `const ${name}: ${type} = ${literal(type, given)};`;
  });
}

function literal(type: string, v: number | boolean): string {
  if (type === 'bool') return v === true || v === 1 ? 'true' : 'false';
  const n = Number(v);
  if (type === 'u32') return `${n}u`;
  if (type === 'i32') return `${n}i`;
  const text = String(n);
  return /[.e]/.test(text) ? `${text}f` : `${text}.0f`;
}

export function ceilDiv(n: number, d: number): number {
  return Math.ceil(n / d);
}

/** A 2D grid of at least `count` workgroups, as kernels that index with (wg.y * nwg.x + wg.x) expect. */
export function grid2d(count: number, maxPerDim: number): [number, number] {
  if (count <= maxPerDim) return [Math.max(count, 1), 1];
  const y = ceilDiv(count, maxPerDim);
  return [ceilDiv(count, y), y];
}

export function bind(device: GPUDevice, pipeline: GPUComputePipeline, resources: (GPUBuffer | GPUBufferBinding)[]): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: resources.map((r, binding) => ({ binding, resource: 'buffer' in r ? r : { buffer: r } })),
  });
}
